import { DEFAULT_ACTION_IDS } from "./catalogue.ts";
import { DEVICE_CLASSES, PAGE_TYPES, REFERRER_CLASSES, type Context } from "./context.ts";
import { canonicalJson, fingerprint } from "./hash.ts";
import { bucketIndex, profileFieldWidth, profileSlot, profileSlotNames, type ProfileFieldSpec } from "./profile.ts";

type RequestField = Exclude<keyof Context, "profile">;
type CategoricalField = { [K in RequestField]: Context[K] extends string | null ? K : never }[RequestField];
type NumericField = { [K in RequestField]: Context[K] extends number | null ? K : never }[RequestField];

/**
 * How one context field becomes numbers. The spec is plain data, so that it can be hashed, printed
 * and compared: a policy trained on one spec is refused by an edge running another.
 *
 * - `category`: one-hot over `values`, plus a last slot for anything else (and for null).
 * - `number`: `log1p` or linear, divided by `scale`; a nullable field adds a "missing" flag.
 * - `cyclic`: sine and cosine of the value over `period`, so that 23h sits next to 0h.
 *
 * `stateBuckets`, when present, makes the field part of the Q-table's state key:
 * for categories, groups of values (anything else falls in an extra last group);
 * for numbers, ascending bucket edges (value < edges[i] → bucket i; null → its own first bucket).
 */
export type FieldSpec =
  | {
      field: CategoricalField;
      type: "category";
      values: readonly string[];
      stateGroups?: readonly (readonly string[])[];
    }
  | {
      field: NumericField;
      type: "number";
      transform: "log1p" | "linear";
      scale: number;
      stateEdges?: readonly number[];
    }
  | { field: NumericField; type: "cyclic"; period: number; stateEdges?: readonly number[] };

export interface FeatureSpec {
  name: string;
  fields: readonly FieldSpec[];
  /** The shop's profile fields, encoded after `fields`; absent (not empty) in a spec without any, so that its hash stays what it was. */
  profile?: readonly ProfileFieldSpec[];
}

/** `base` with the shop's profile fields: a spec of its own, with its own hash. */
export function withProfileFields(base: FeatureSpec, profile: readonly ProfileFieldSpec[]): FeatureSpec {
  if (profile.length === 0) return base;
  return { ...base, name: `${base.name}+profile`, profile };
}

export const DEFAULT_FEATURE_SPEC: FeatureSpec = {
  name: "edge-promo/v2",
  fields: [
    {
      field: "device",
      type: "category",
      values: DEVICE_CLASSES.slice(0, 3),
      stateGroups: [["mobile"], ["tablet", "desktop"]],
    },
    { field: "country", type: "category", values: ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA", "AU", "JP"] },
    { field: "localHour", type: "cyclic", period: 24 },
    { field: "weekday", type: "cyclic", period: 7 },
    {
      field: "page",
      type: "category",
      values: PAGE_TYPES.slice(0, 6),
      stateGroups: [["home", "category", "search"], ["product"], ["cart", "checkout"]],
    },
    {
      field: "referrer",
      type: "category",
      values: REFERRER_CLASSES.slice(0, 5),
      // In the key because where a visitor came from says much about what a promotion does to them
      // (a first-touch channel is the closest observable to a loyal or a deal-seeking visitor).
      stateGroups: [["direct", "email"], ["search"], ["social"], ["paid"]],
    },
    { field: "cartValue", type: "number", transform: "log1p", scale: 6, stateEdges: [1, 40, 80] },
    { field: "visits", type: "number", transform: "log1p", scale: 4, stateEdges: [2, 6] },
    { field: "daysSinceLastVisit", type: "number", transform: "log1p", scale: 5 },
    { field: "purchases", type: "number", transform: "log1p", scale: 3, stateEdges: [1, 3] },
    { field: "daysSinceLastPurchase", type: "number", transform: "log1p", scale: 5 },
    { field: "promosSeen7d", type: "number", transform: "log1p", scale: 3, stateEdges: [1, 3] },
    {
      field: "lastPromotion",
      type: "category",
      values: DEFAULT_ACTION_IDS,
      stateGroups: [["none"], DEFAULT_ACTION_IDS.filter((id) => id !== "none")],
    },
  ],
};

/** Number of vector slots one field takes. */
function fieldWidth(spec: FieldSpec): number {
  switch (spec.type) {
    case "category":
      return spec.values.length + 1;
    case "number":
      return isNullable(spec.field) ? 2 : 1;
    case "cyclic":
      return 2;
  }
}

/** Number of state-key buckets one field takes (1 for a field outside the key). */
function fieldBuckets(spec: FieldSpec): number {
  if (spec.type === "category") return spec.stateGroups ? spec.stateGroups.length + 1 : 1;
  if (!spec.stateEdges) return 1;
  return spec.stateEdges.length + 1 + (isNullable(spec.field) ? 1 : 0);
}

const NULLABLE_FIELDS: ReadonlySet<RequestField> = new Set([
  "daysSinceLastVisit",
  "daysSinceLastPurchase",
  "lastPromotion",
]);
function isNullable(field: RequestField): boolean {
  return NULLABLE_FIELDS.has(field);
}

/** A feature spec prepared for the hot path: widths and radices computed once. */
export interface CompiledFeatureSpec {
  spec: FeatureSpec;
  hash: string;
  /** Length of the feature vector. */
  width: number;
  /** Number of distinct state keys (the Q-table's rows). */
  stateCount: number;
  /** Vector slot names, for reports (feature importance). */
  slotNames: readonly string[];
  fields: readonly { spec: FieldSpec; offset: number; radix: number; index: ReadonlyMap<string, number> }[];
  profile: readonly { spec: ProfileFieldSpec; offset: number }[];
}

export function compileFeatureSpec(spec: FeatureSpec): CompiledFeatureSpec {
  let offset = 0;
  let stateCount = 1;
  const slotNames: string[] = [];
  const fields = spec.fields.map((field) => {
    const compiled = { spec: field, offset, radix: fieldBuckets(field), index: categoryIndex(field) };
    offset += fieldWidth(field);
    stateCount *= compiled.radix;
    slotNames.push(...slotNamesOf(field));
    return compiled;
  });
  const profile = (spec.profile ?? []).map((field) => {
    const compiled = { spec: field, offset };
    offset += profileFieldWidth(field);
    slotNames.push(...profileSlotNames(field));
    return compiled;
  });
  return { spec, hash: featureSpecHash(spec), width: offset, stateCount, slotNames, fields, profile };
}

function categoryIndex(spec: FieldSpec): ReadonlyMap<string, number> {
  return new Map(spec.type === "category" ? spec.values.map((v, i) => [v, i] as const) : []);
}

function slotNamesOf(spec: FieldSpec): string[] {
  switch (spec.type) {
    case "category":
      return [...spec.values.map((v) => `${spec.field}=${v}`), `${spec.field}=other`];
    case "number":
      return isNullable(spec.field) ? [`${spec.field}:missing`, spec.field] : [spec.field];
    case "cyclic":
      return [`${spec.field}:sin`, `${spec.field}:cos`];
  }
}

/** Stable hash of the spec's content: what goes in every policy header and decision row. */
export function featureSpecHash(spec: FeatureSpec): string {
  return fingerprint(canonicalJson(spec));
}

/** Writes the feature vector of `context` into `out` (allocation-free on the hot path). */
export function encodeFeaturesInto(compiled: CompiledFeatureSpec, context: Context, out: Float32Array): Float32Array {
  out.fill(0);
  for (const { spec, offset, index } of compiled.fields) {
    const raw = context[spec.field];
    switch (spec.type) {
      case "category": {
        const i = typeof raw === "string" ? index.get(raw) : undefined;
        out[offset + (i ?? spec.values.length)] = 1;
        break;
      }
      case "number": {
        const slot = isNullable(spec.field) ? offset + 1 : offset;
        if (raw === null) out[offset] = 1;
        else out[slot] = scaleNumber(raw as number, spec.transform) / spec.scale;
        break;
      }
      case "cyclic": {
        if (raw === null) break; // (0, 0): the centre of the circle, away from every real value.
        // Reduce into one period first: 2π·value overflows to Infinity (sin → NaN) for huge values.
        const phase = (raw as number) % spec.period;
        const angle = (2 * Math.PI * phase) / spec.period;
        out[offset] = Math.sin(angle);
        out[offset + 1] = Math.cos(angle);
        break;
      }
    }
  }
  for (const { spec, offset } of compiled.profile) out[offset + profileSlot(spec, context.profile?.[spec.name])] = 1;
  return out;
}

export function encodeFeatures(compiled: CompiledFeatureSpec, context: Context): Float32Array {
  return encodeFeaturesInto(compiled, context, new Float32Array(compiled.width));
}

function scaleNumber(value: number, transform: "log1p" | "linear"): number {
  return transform === "log1p" ? Math.log1p(Math.max(0, value)) : value;
}

/** The coarse state index used by the Q-table: a mixed-radix number over the bucketed fields. */
export function stateKey(compiled: CompiledFeatureSpec, context: Context): number {
  let key = 0;
  for (const { spec, radix } of compiled.fields) {
    if (radix === 1) continue;
    key = key * radix + bucketOf(spec, context[spec.field]);
  }
  return key;
}

/** The fields that make up the state key, in the order (most significant first) that {@link stateKey} combines them. */
export function stateKeyFields(compiled: CompiledFeatureSpec): readonly { field: RequestField; buckets: number }[] {
  return compiled.fields.filter((f) => f.radix > 1).map((f) => ({ field: f.spec.field, buckets: f.radix }));
}

/** The inverse of {@link stateKey}: each key field's bucket, in {@link stateKeyFields} order. */
export function stateKeyBuckets(compiled: CompiledFeatureSpec, key: number): number[] {
  const fields = stateKeyFields(compiled);
  const buckets = new Array<number>(fields.length);
  for (let i = fields.length - 1; i >= 0; i--) {
    const radix = fields[i]!.buckets;
    buckets[i] = key % radix;
    key = Math.floor(key / radix);
  }
  return buckets;
}

function bucketOf(spec: FieldSpec, raw: Context[RequestField]): number {
  if (spec.type === "category") {
    const groups = spec.stateGroups ?? [];
    const g = typeof raw === "string" ? groups.findIndex((group) => group.includes(raw)) : -1;
    return g === -1 ? groups.length : g;
  }
  const edges = spec.stateEdges ?? [];
  const nullShift = isNullable(spec.field) ? 1 : 0;
  if (raw === null) return 0;
  return bucketIndex(edges, raw as number) + nullShift;
}

export const DEFAULT_COMPILED_SPEC = compileFeatureSpec(DEFAULT_FEATURE_SPEC);
