import { z } from "zod";

/**
 * What the shop knows about a visitor that the request does not show (logged in, loyalty tier,
 * lifetime orders), declared by the operator as profile fields of the feature spec.
 *
 * - `category`: one of `values`; one-hot, plus a slot for "missing".
 * - `number`: bucketed by ascending `buckets` edges (value < edges[i] → bucket i); one-hot, plus "missing".
 * - `boolean`: true / false / missing, one slot each.
 *
 * A field comes from one source: the decide body (`context.profile.<name>`), a request header the
 * shop's own server sets, or a cookie the shop's site sets. A `sensitive` field is logged only in
 * its bucketed form (its bucket's label, or the declared category), never as sent.
 */
export type ProfileSource = { from: "body" } | { from: "header"; header: string } | { from: "cookie"; cookie: string };

export type ProfileFieldSpec = { name: string; source: ProfileSource; sensitive?: boolean } & (
  { type: "category"; values: readonly string[] } | { type: "number"; buckets: readonly number[] } | { type: "boolean" }
);

/** A profile field's value as the context holds it; null when the request did not say. */
export type ProfileValue = string | number | boolean | null;
export type Profile = Readonly<Record<string, ProfileValue>>;

const fieldName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,31}$/, "1–32 letters, digits or _, starting with a letter");

export const profileFieldSpecSchema = z
  .intersection(
    z.object({
      name: fieldName,
      source: z.discriminatedUnion("from", [
        z.object({ from: z.literal("body") }),
        z.object({
          from: z.literal("header"),
          header: z.string().regex(/^[a-z0-9-]{1,64}$/, "a lower-case header name"),
        }),
        z.object({ from: z.literal("cookie"), cookie: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a cookie name") }),
      ]),
      sensitive: z.boolean().optional(),
    }),
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("category"), values: z.array(z.string().min(1).max(64)).min(1).max(64) }),
      z.object({
        type: z.literal("number"),
        buckets: z
          .array(z.number().finite())
          .min(1)
          .max(32)
          .refine((edges) => edges.every((e, i) => i === 0 || e > edges[i - 1]!), "bucket edges must ascend"),
      }),
      z.object({ type: z.literal("boolean") }),
    ]),
  )
  .transform((spec) => spec as ProfileFieldSpec);

export const profileFieldsSchema = z
  .array(profileFieldSpecSchema)
  .max(32)
  .refine((fields) => new Set(fields.map((f) => f.name)).size === fields.length, "profile field names must be unique");

/**
 * The example the docs ship: membership from the shop's session (a header its server sets), the
 * loyalty tier from the body, and lifetime orders, sensitive, from a cookie the shop's site sets.
 */
export const EXAMPLE_PROFILE_FIELDS: readonly ProfileFieldSpec[] = [
  { name: "member", type: "boolean", source: { from: "header", header: "x-shop-member" } },
  { name: "tier", type: "category", values: ["bronze", "silver", "gold"], source: { from: "body" } },
  {
    name: "lifetimeOrders",
    type: "number",
    buckets: [1, 3, 10],
    source: { from: "cookie", cookie: "shop_orders" },
    sensitive: true,
  },
];

/** Slots the field takes in the feature vector. */
export function profileFieldWidth(spec: ProfileFieldSpec): number {
  switch (spec.type) {
    case "category":
      return spec.values.length + 1;
    case "number":
      return spec.buckets.length + 2;
    case "boolean":
      return 3;
  }
}

export function profileSlotNames(spec: ProfileFieldSpec): string[] {
  const missing = `profile.${spec.name}:missing`;
  switch (spec.type) {
    case "category":
      return [...spec.values.map((v) => `profile.${spec.name}=${v}`), missing];
    case "number":
      return [...bucketLabels(spec.buckets).map((label) => `profile.${spec.name}∈${label}`), missing];
    case "boolean":
      return [`profile.${spec.name}=true`, `profile.${spec.name}=false`, missing];
  }
}

/** "<1", "[1,3)", ..., "≥10": one label per bucket. */
function bucketLabels(edges: readonly number[]): string[] {
  return [`<${edges[0]}`, ...edges.slice(1).map((edge, i) => `[${edges[i]},${edge})`), `≥${edges[edges.length - 1]}`];
}

/** The bucket of `value` under ascending `edges`: value < edges[i] → bucket i, past the last edge → edges.length. */
export function bucketIndex(edges: readonly number[], value: number): number {
  let b = 0;
  while (b < edges.length && value >= edges[b]!) b++;
  return b;
}

/**
 * The slot within the field that `value` lights, or the last ("missing") one. A sensitive number
 * arrives in the log as its bucket's label, which lights the same slot.
 */
export function profileSlot(spec: ProfileFieldSpec, value: ProfileValue | undefined): number {
  const missing = profileFieldWidth(spec) - 1;
  switch (spec.type) {
    case "category": {
      const i = typeof value === "string" ? spec.values.indexOf(value) : -1;
      return i === -1 ? missing : i;
    }
    case "number": {
      if (typeof value === "number" && Number.isFinite(value)) return bucketIndex(spec.buckets, value);
      const i = typeof value === "string" ? bucketLabels(spec.buckets).indexOf(value) : -1;
      return i === -1 ? missing : i;
    }
    case "boolean":
      return value === true ? 0 : value === false ? 1 : missing;
  }
}

/** The profile as logged: sensitive fields replaced by their bucket's label (numbers); categories and booleans are buckets already. */
export function loggableProfile(fields: readonly ProfileFieldSpec[], profile: Profile): Profile {
  const out: Record<string, ProfileValue> = {};
  for (const spec of fields) {
    const value = profile[spec.name] ?? null;
    out[spec.name] =
      spec.sensitive && spec.type === "number" && typeof value === "number"
        ? bucketLabels(spec.buckets)[bucketIndex(spec.buckets, value)]!
        : value;
  }
  return out;
}

/** Why a raw profile value was refused: the field it came from, as the client named it. */
export class ProfileValueError extends Error {
  override readonly name = "ProfileValueError";
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/**
 * A value as the request carried it (JSON from the body; text from a header or a cookie), checked
 * against the field's type. `where` names it in the error: `context.profile.tier`, `header x-shop-member`.
 */
export function parseProfileValue(spec: ProfileFieldSpec, raw: unknown, where: string): ProfileValue {
  if (raw === undefined || raw === null) return null;
  const text = typeof raw === "string" ? raw.trim() : null;
  switch (spec.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      if (text === "true" || text === "1") return true;
      if (text === "false" || text === "0") return false;
      throw new ProfileValueError(where, "expected true or false");
    }
    case "number": {
      const value = typeof raw === "number" ? raw : text !== null && text !== "" ? Number(text) : Number.NaN;
      if (!Number.isFinite(value)) throw new ProfileValueError(where, "expected a finite number");
      return value;
    }
    case "category": {
      if (text !== null && spec.values.includes(text)) return text;
      throw new ProfileValueError(where, `expected one of ${spec.values.join(", ")}`);
    }
  }
}
