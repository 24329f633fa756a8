import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS } from "../../shared/catalogue.ts";
import { contextSchema, type Context } from "../../shared/context.ts";
import {
  compileFeatureSpec,
  DEFAULT_COMPILED_SPEC,
  DEFAULT_FEATURE_SPEC,
  encodeFeatures,
  encodeFeaturesInto,
  featureSpecHash,
  stateKey,
  stateKeyBuckets,
  stateKeyFields,
  type FeatureSpec,
  type FieldSpec,
} from "../../shared/features.ts";
import { BASE_CONTEXT, contextArb } from "./helpers.ts";

const spec = DEFAULT_COMPILED_SPEC;
const slot = (name: string) => {
  const i = spec.slotNames.indexOf(name);
  if (i === -1) throw new Error(`no slot ${name}`);
  return i;
};
const ctx = (overrides: Partial<Context>): Context => ({ ...BASE_CONTEXT, ...overrides });

/** A small spec that exercises what the default one does not: linear numbers, bucketed cyclic and nullable fields. */
const SMALL_SPEC: FeatureSpec = {
  name: "test/small",
  fields: [
    { field: "page", type: "category", values: ["home", "cart"], stateGroups: [["home"], ["cart"]] },
    { field: "cartValue", type: "number", transform: "linear", scale: 100, stateEdges: [50] },
    { field: "daysSinceLastVisit", type: "number", transform: "log1p", scale: 1, stateEdges: [1, 7] },
    { field: "localHour", type: "cyclic", period: 24, stateEdges: [12] },
    { field: "daysSinceLastPurchase", type: "cyclic", period: 7 },
  ],
};

describe("context arbitrary", () => {
  test("only produces contexts the zod schema accepts", () => {
    fc.assert(fc.property(contextArb, (c) => contextSchema.safeParse(c).success));
  });
});

describe("encodeFeatures", () => {
  test("the default spec has the expected layout", () => {
    // 4 device + 11 country + 2 hour + 2 weekday + 7 page + 6 referrer + 1 cart + 1 visits
    // + 2 daysSinceLastVisit + 1 purchases + 2 daysSinceLastPurchase + 1 promosSeen7d + 8 lastPromotion
    expect(spec.width).toBe(48);
    expect(spec.slotNames).toHaveLength(spec.width);
    expect(new Set(spec.slotNames).size).toBe(spec.width);
    // device 3 × page 4 × referrer 5 × cart 4 × visits 3 × purchases 3 × promosSeen7d 3 × lastPromotion 3
    expect(spec.stateCount).toBe(19_440);
  });

  test("the vector is as wide as the compiled spec, finite, with one-hot and unit-circle blocks", () => {
    for (const compiled of [spec, compileFeatureSpec(SMALL_SPEC)]) {
      expect(compiled.slotNames).toHaveLength(compiled.width);
      fc.assert(
        fc.property(contextArb, (c) => {
          const v = encodeFeatures(compiled, c);
          expect(v).toBeInstanceOf(Float32Array);
          expect(v.length).toBe(compiled.width);
          for (const x of v) expect(Number.isFinite(x)).toBe(true);
          for (const { spec: f, offset } of compiled.fields) {
            if (f.type === "category") {
              const block = [...v.subarray(offset, offset + f.values.length + 1)];
              expect(block.filter((x) => x === 1)).toHaveLength(1);
              expect(block.filter((x) => x === 0)).toHaveLength(f.values.length);
            }
            if (f.type === "cyclic" && c[f.field] !== null) {
              expect(v[offset]! ** 2 + v[offset + 1]! ** 2).toBeCloseTo(1, 6);
            }
          }
        }),
      );
    }
  });

  test("each category value lights exactly the slot named after it", () => {
    for (const { spec: f } of spec.fields) {
      if (f.type !== "category") continue;
      for (const value of f.values) {
        const v = encodeFeatures(spec, ctx({ [f.field]: value }));
        const named = slot(`${f.field}=${value}`);
        expect(v[named]).toBe(1);
        for (const other of f.values) if (other !== value) expect(v[slot(`${f.field}=${other}`)]).toBe(0);
        expect(v[slot(`${f.field}=other`)]).toBe(0);
      }
    }
  });

  test("one-hot positions follow the spec order", () => {
    const v = encodeFeatures(
      spec,
      ctx({ device: "tablet", country: "DE", page: "cart", referrer: "email", lastPromotion: "gift" }),
    );
    const hot = [...v.keys()].filter((i) => v[i] === 1 && spec.slotNames[i]!.includes("="));
    expect(hot.map((i) => spec.slotNames[i])).toEqual([
      "device=tablet",
      "country=DE",
      "page=cart",
      "referrer=email",
      "lastPromotion=gift",
    ]);
    expect(hot).toEqual([1, 6, 23, 29, 46]);
  });

  test("unknown or unlisted categories fall in the 'other' slot", () => {
    const v = encodeFeatures(
      spec,
      ctx({ device: "other", country: "ZZ", page: "other", referrer: "other", lastPromotion: "retired-promo" }),
    );
    for (const field of ["device", "country", "page", "referrer", "lastPromotion"]) {
      expect(v[slot(`${field}=other`)], field).toBe(1);
    }
    const never = encodeFeatures(spec, ctx({ lastPromotion: null }));
    expect(never[slot("lastPromotion=other")]).toBe(1);
    expect(never[slot("lastPromotion=none")]).toBe(0);
  });

  test("a null numeric sets its missing flag and leaves its value at 0", () => {
    const v = encodeFeatures(spec, ctx({ daysSinceLastVisit: null, daysSinceLastPurchase: null }));
    expect(v[slot("daysSinceLastVisit:missing")]).toBe(1);
    expect(v[slot("daysSinceLastVisit")]).toBe(0);
    expect(v[slot("daysSinceLastPurchase:missing")]).toBe(1);
    expect(v[slot("daysSinceLastPurchase")]).toBe(0);

    const w = encodeFeatures(spec, ctx({ daysSinceLastVisit: 3, daysSinceLastPurchase: 0 }));
    expect(w[slot("daysSinceLastVisit:missing")]).toBe(0);
    expect(w[slot("daysSinceLastVisit")]).toBe(Math.fround(Math.log1p(3) / 5));
    // 0 days is a real value, not a missing one.
    expect(w[slot("daysSinceLastPurchase:missing")]).toBe(0);
    expect(w[slot("daysSinceLastPurchase")]).toBe(0);
  });

  test("numbers are scaled as the spec says (log1p or linear)", () => {
    const v = encodeFeatures(spec, ctx({ cartValue: 120, visits: 7 }));
    expect(v[slot("cartValue")]).toBe(Math.fround(Math.log1p(120) / 6));
    expect(v[slot("visits")]).toBe(Math.fround(Math.log1p(7) / 4));
    const small = compileFeatureSpec(SMALL_SPEC);
    const w = encodeFeatures(small, ctx({ cartValue: 120 }));
    expect(w[small.slotNames.indexOf("cartValue")]).toBe(Math.fround(1.2));
  });

  test("hours and weekdays are cyclic: 23h sits next to 0h", () => {
    const at = (overrides: Partial<Context>) => {
      const v = encodeFeatures(spec, ctx(overrides));
      return {
        hour: [v[slot("localHour:sin")]!, v[slot("localHour:cos")]!],
        day: [v[slot("weekday:sin")]!, v[slot("weekday:cos")]!],
      };
    };
    const dist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
    const h0 = at({ localHour: 0 }).hour;
    const h1 = at({ localHour: 1 }).hour;
    const h12 = at({ localHour: 12 }).hour;
    const h23 = at({ localHour: 23 }).hour;
    expect(h0[0]).toBeCloseTo(0, 6);
    expect(h0[1]).toBeCloseTo(1, 6);
    expect(dist(h23, h0)).toBeCloseTo(2 * Math.sin(Math.PI / 24), 6);
    expect(dist(h23, h0)).toBeCloseTo(dist(h0, h1), 6);
    expect(dist(h23, h0)).toBeLessThan(0.3);
    expect(dist(h12, h0)).toBeCloseTo(2, 6);
    const d0 = at({ weekday: 0 }).day;
    const d6 = at({ weekday: 6 }).day;
    const d3 = at({ weekday: 3 }).day;
    expect(dist(d6, d0)).toBeCloseTo(2 * Math.sin(Math.PI / 7), 6);
    expect(dist(d6, d0)).toBeLessThan(dist(d3, d0));
  });

  test("a null cyclic value encodes as the centre of the circle, not NaN", () => {
    const small = compileFeatureSpec(SMALL_SPEC);
    const v = encodeFeatures(small, ctx({ daysSinceLastPurchase: null }));
    expect(v[small.slotNames.indexOf("daysSinceLastPurchase:sin")]).toBe(0);
    expect(v[small.slotNames.indexOf("daysSinceLastPurchase:cos")]).toBe(0);
  });

  test("encodeFeaturesInto overwrites every slot of a reused buffer", () => {
    fc.assert(
      fc.property(contextArb, contextArb, (a, b) => {
        const out = new Float32Array(spec.width);
        encodeFeaturesInto(spec, a, out);
        const returned = encodeFeaturesInto(spec, b, out);
        expect(returned).toBe(out);
        expect([...out]).toEqual([...encodeFeatures(spec, b)]);
      }),
      { numRuns: 50 },
    );
  });
});

/** One value per state bucket of `f`, in bucket order. */
function bucketRepresentatives(f: FieldSpec): Context[keyof Context][] {
  if (f.type === "category") {
    const groups = f.stateGroups ?? [];
    const grouped = new Set(groups.flat());
    const outside = f.field === "lastPromotion" ? null : ["other", "ZZ"].find((v) => !grouped.has(v))!;
    return [...groups.map((g) => g[0]!), outside];
  }
  const edges = f.stateEdges ?? [];
  const nullable = f.field === "daysSinceLastVisit" || f.field === "daysSinceLastPurchase";
  return [...(nullable ? [null] : []), Math.max(0, edges[0]! - 1), ...edges];
}

function bucketedFields(compiled: typeof spec) {
  return compiled.fields.filter((f) => f.radix > 1);
}

describe("stateKey", () => {
  test("is an integer in [0, stateCount) for any context", () => {
    for (const compiled of [spec, compileFeatureSpec(SMALL_SPEC)]) {
      fc.assert(
        fc.property(contextArb, (c) => {
          const key = stateKey(compiled, c);
          return Number.isInteger(key) && key >= 0 && key < compiled.stateCount;
        }),
      );
    }
  });

  test("is a bijection between bucket combinations and [0, stateCount)", () => {
    for (const compiled of [spec, compileFeatureSpec(SMALL_SPEC)]) {
      const fields = bucketedFields(compiled);
      const reps = fields.map((f) => bucketRepresentatives(f.spec));
      reps.forEach((r, i) => expect(r, fields[i]!.spec.field).toHaveLength(fields[i]!.radix));
      const keys = new Set<number>();
      let combos = 0;
      const walk = (i: number, c: Context) => {
        if (i === fields.length) {
          combos++;
          keys.add(stateKey(compiled, c));
          return;
        }
        for (const value of reps[i]!) walk(i + 1, { ...c, [fields[i]!.spec.field]: value });
      };
      walk(0, BASE_CONTEXT);
      expect(combos).toBe(compiled.stateCount);
      expect(keys.size).toBe(compiled.stateCount);
      expect(Math.min(...keys)).toBe(0);
      expect(Math.max(...keys)).toBe(compiled.stateCount - 1);
    }
  });

  test("stateKeyBuckets inverts it: each key field's bucket, as bucketOf the field's representative", () => {
    for (const compiled of [spec, compileFeatureSpec(SMALL_SPEC)]) {
      const fields = bucketedFields(compiled);
      expect(stateKeyFields(compiled).map((f) => f.field)).toEqual(fields.map((f) => f.spec.field));
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: fields.length, maxLength: fields.length }), (picks) => {
          const buckets = picks.map((p, i) => p % fields[i]!.radix);
          const context = fields.reduce<Context>(
            (c, f, i) => ({ ...c, [f.spec.field]: bucketRepresentatives(f.spec)[buckets[i]!] }),
            BASE_CONTEXT,
          );
          expect(stateKeyBuckets(compiled, stateKey(compiled, context))).toEqual(buckets);
        }),
      );
    }
  });

  test("contexts differing in one bucketed field, across buckets, get different keys", () => {
    fc.assert(
      fc.property(contextArb, fc.nat(), fc.nat(), fc.nat(), (c, fi, a, b) => {
        const fields = bucketedFields(spec);
        const f = fields[fi % fields.length]!;
        const reps = bucketRepresentatives(f.spec);
        const i = a % reps.length;
        const j = b % reps.length;
        fc.pre(i !== j);
        const ka = stateKey(spec, { ...c, [f.spec.field]: reps[i] });
        const kb = stateKey(spec, { ...c, [f.spec.field]: reps[j] });
        expect(ka).not.toBe(kb);
      }),
    );
  });

  test("bucket edges: value < edge is below it, value >= edge is in the next bucket", () => {
    const k = (overrides: Partial<Context>) => stateKey(spec, ctx(overrides));
    expect(k({ cartValue: 0 })).toBe(k({ cartValue: 0.99 }));
    expect(k({ cartValue: 0.99 })).not.toBe(k({ cartValue: 1 }));
    expect(k({ cartValue: 1 })).toBe(k({ cartValue: 39.99 }));
    expect(k({ cartValue: 39.99 })).not.toBe(k({ cartValue: 40 }));
    expect(k({ cartValue: 79.99 })).not.toBe(k({ cartValue: 80 }));
    expect(k({ cartValue: 80 })).toBe(k({ cartValue: 1_000_000 }));
    expect(k({ visits: 1 })).not.toBe(k({ visits: 2 }));
    expect(k({ visits: 5 })).not.toBe(k({ visits: 6 }));
    expect(k({ visits: 6 })).toBe(k({ visits: 600 }));
  });

  test("values grouped together share a key; ungrouped values share the last group", () => {
    const k = (overrides: Partial<Context>) => stateKey(spec, ctx(overrides));
    expect(k({ device: "tablet" })).toBe(k({ device: "desktop" }));
    expect(k({ device: "mobile" })).not.toBe(k({ device: "tablet" }));
    expect(k({ device: "other" })).not.toBe(k({ device: "tablet" }));
    expect(k({ page: "home" })).toBe(k({ page: "search" }));
    expect(k({ page: "cart" })).toBe(k({ page: "checkout" }));
    expect(k({ page: "other" })).not.toBe(k({ page: "home" }));
    for (const id of DEFAULT_ACTION_IDS.slice(1)) expect(k({ lastPromotion: id })).toBe(k({ lastPromotion: "pct10" }));
    expect(k({ lastPromotion: null })).toBe(k({ lastPromotion: "unknown" }));
    expect(k({ lastPromotion: null })).not.toBe(k({ lastPromotion: "none" }));
  });

  test("a nullable bucketed field gives null its own bucket", () => {
    const small = compileFeatureSpec(SMALL_SPEC);
    const k = (d: number | null) => stateKey(small, ctx({ daysSinceLastVisit: d }));
    const keys = [k(null), k(0), k(1), k(7)];
    expect(new Set(keys).size).toBe(4);
    expect(k(0.5)).toBe(k(0));
    expect(k(6.9)).toBe(k(1));
  });

  test("depends only on the bucketed fields", () => {
    fc.assert(
      fc.property(contextArb, contextArb, (a, b) => {
        const mixed: Context = { ...b };
        for (const { spec: f } of bucketedFields(spec)) Object.assign(mixed, { [f.field]: a[f.field] });
        expect(stateKey(spec, mixed)).toBe(stateKey(spec, a));
      }),
    );
  });
});

describe("feature spec hash", () => {
  const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  const reverseKeys = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(reverseKeys);
    if (x && typeof x === "object")
      return Object.fromEntries(
        Object.entries(x)
          .reverse()
          .map(([k, v]) => [k, reverseKeys(v)]),
      );
    return x;
  };

  test("is 16 hex digits, and the compiled spec carries it", () => {
    expect(spec.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(spec.hash).toBe(featureSpecHash(DEFAULT_FEATURE_SPEC));
  });

  test("is stable: the same spec rebuilt, or with keys in another order, hashes the same", () => {
    expect(featureSpecHash(clone(DEFAULT_FEATURE_SPEC))).toBe(spec.hash);
    expect(featureSpecHash(reverseKeys(DEFAULT_FEATURE_SPEC) as FeatureSpec)).toBe(spec.hash);
    expect(compileFeatureSpec(clone(DEFAULT_FEATURE_SPEC)).hash).toBe(spec.hash);
    expect(compileFeatureSpec(SMALL_SPEC).hash).toBe(compileFeatureSpec(clone(SMALL_SPEC)).hash);
  });

  test("changes when anything in the spec changes", () => {
    const variants: [string, FeatureSpec][] = [];
    const withField = (i: number, change: (f: Record<string, unknown>) => void): FeatureSpec => {
      const s = clone(DEFAULT_FEATURE_SPEC) as unknown as { name: string; fields: Record<string, unknown>[] };
      change(s.fields[i]!);
      return s as unknown as FeatureSpec;
    };
    variants.push(["name", { ...clone(DEFAULT_FEATURE_SPEC), name: "edge-promo/other" }]);
    variants.push(["order", { ...clone(DEFAULT_FEATURE_SPEC), fields: [...DEFAULT_FEATURE_SPEC.fields].reverse() }]);
    variants.push(["dropped field", { ...clone(DEFAULT_FEATURE_SPEC), fields: DEFAULT_FEATURE_SPEC.fields.slice(1) }]);
    DEFAULT_FEATURE_SPEC.fields.forEach((f, i) => {
      variants.push([`${f.field}.field`, withField(i, (x) => (x.field = "visitsRenamed"))]);
      variants.push([`${f.field}.type`, withField(i, (x) => (x.type = x.type === "cyclic" ? "number" : "cyclic"))]);
      if (f.type === "category") {
        variants.push([`${f.field}.values`, withField(i, (x) => (x.values = [...(x.values as string[]), "extra"]))]);
        variants.push([
          `${f.field}.values order`,
          withField(i, (x) => (x.values = [...(x.values as string[])].reverse())),
        ]);
        variants.push([
          `${f.field}.stateGroups`,
          withField(i, (x) => (x.stateGroups = x.stateGroups ? (x.stateGroups as string[][]).slice(1) : [["x"]])),
        ]);
      }
      if (f.type === "number") {
        variants.push([`${f.field}.scale`, withField(i, (x) => (x.scale = (x.scale as number) + 1))]);
        variants.push([
          `${f.field}.transform`,
          withField(i, (x) => (x.transform = x.transform === "log1p" ? "linear" : "log1p")),
        ]);
      }
      if (f.type === "cyclic")
        variants.push([`${f.field}.period`, withField(i, (x) => (x.period = (x.period as number) * 2))]);
      if (f.type !== "category") {
        variants.push([
          `${f.field}.stateEdges`,
          withField(i, (x) => (x.stateEdges = x.stateEdges ? [...(x.stateEdges as number[]), 1e6] : [1])),
        ]);
      }
    });
    const hashes = new Map<string, string>();
    for (const [what, variant] of variants) {
      const h = featureSpecHash(variant);
      expect(h, what).not.toBe(spec.hash);
      hashes.set(h, what);
    }
    // Different changes give different hashes too.
    expect(hashes.size).toBe(variants.length);
  });
});
