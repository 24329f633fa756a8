import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { NEW_PROMOTION } from "../../trainer/sim/model.ts";
import { DEFAULT_CATALOGUE, eligibleMask, type Catalogue, type Promotion } from "../../shared/catalogue.ts";
import {
  catalogueHash,
  CatalogueError,
  DEFAULT_NEW_PROMOTION_EXPLORATION,
  parseCatalogueDocument,
} from "../../shared/catalogue-document.ts";
import { createDecisionEngine } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures } from "../../shared/features.ts";
import { actionProbabilities, greedyAction } from "../../shared/policy/explore.ts";
import { decodePolicy, encodePolicy } from "../../shared/policy/format.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { DenseLayer, FeaturesModel } from "../../shared/policy/types.ts";
import { encodePromotion, PROMOTION_FEATURE_WIDTH } from "../../shared/promotion-features.ts";
import { BASE_CONTEXT, contextArb, featuresPolicy, qtablePolicy, dqnPolicy, reasonOf } from "./helpers.ts";

const spec = DEFAULT_COMPILED_SPEC;

function forward(layers: readonly DenseLayer[], input: ArrayLike<number>): number[] {
  let x = Array.from(input);
  layers.forEach((layer, l) => {
    x = Array.from({ length: layer.outputs }, (_, j) => {
      let sum = layer.bias[j]!;
      for (let i = 0; i < layer.inputs; i++) sum += x[i]! * layer.kernel[i * layer.outputs + j]!;
      return l < layers.length - 1 ? Math.max(0, sum) : sum;
    });
  });
  return x;
}

/** Q(s, a) = u · v[0..d) + v[d], in float64: the definition, written out. */
function referenceQ(model: FeaturesModel, features: Float32Array, promotions: readonly Float32Array[]): number[] {
  const u = forward(model.visitor, features);
  return promotions.map((p) => {
    const v = forward(model.promotion, p);
    return u.reduce((sum, x, k) => sum + x * v[k]!, v[u.length]!);
  });
}

const pct15 = NEW_PROMOTION.promotion;

describe("promotion features", () => {
  test("kind one-hot, offer and cost, one slot each", () => {
    const bundle = encodePromotion(DEFAULT_CATALOGUE.find((p) => p.id === "bundle")!);
    expect(bundle).toHaveLength(PROMOTION_FEATURE_WIDTH);
    expect(Array.from(bundle.subarray(0, 6))).toEqual([0, 0, 0, 0, 1, 0]);
    expect(bundle[6]).toBeCloseTo(0.15, 6); // depth
    expect(bundle[9]).toBeCloseTo(0.2, 6); // basket uplift over 1
    expect(bundle[10]).toBeCloseTo(0.15, 6); // cost rate
    expect(bundle[12]).toBeCloseTo(Math.log1p(30) / 5, 6); // cap
    expect(
      Array.from(encodePromotion(DEFAULT_CATALOGUE[0]!))
        .slice(1)
        .every((x) => x === 0),
    ).toBe(true);
  });

  test("distinct promotions of the default catalogue encode differently", () => {
    const keys = DEFAULT_CATALOGUE.map((p) => Array.from(encodePromotion(p)).join(","));
    expect(new Set(keys).size).toBe(DEFAULT_CATALOGUE.length);
  });
});

describe("features inference", () => {
  test("matches the definition on random contexts, for the trained promotions and for others", () => {
    const policy = featuresPolicy(5);
    const model = policy.model as FeaturesModel;
    const trained = compileInference(model);
    const other = [DEFAULT_CATALOGUE[0]!, pct15, DEFAULT_CATALOGUE[5]!].map(encodePromotion);
    const changed = compileInference(model, other);
    fc.assert(
      fc.property(contextArb, (c) => {
        const x = encodeFeatures(spec, c);
        const want = referenceQ(
          model,
          x,
          model.promotions.map((p) => p.features),
        );
        const got = Array.from(trained(x, 0));
        want.forEach((w, a) => expect(Math.abs(got[a]! - w)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w))));
        const wantOther = referenceQ(model, x, other);
        const gotOther = Array.from(changed(x, 0));
        expect(gotOther).toHaveLength(3);
        wantOther.forEach((w, a) => expect(Math.abs(gotOther[a]! - w)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w))));
      }),
      { numRuns: 200 },
    );
  });

  test("a decoded policy infers exactly what the original does", () => {
    const policy = featuresPolicy(6);
    const x = encodeFeatures(spec, BASE_CONTEXT);
    const original = Array.from(compileInference(policy.model)(x, 0));
    expect(Array.from(compileInference(decodePolicy(encodePolicy(policy)).model)(x, 0))).toEqual(original);
  });

  test("per-action models take no promotion list", () => {
    expect(() => compileInference(dqnPolicy([8]).model, [encodePromotion(pct15)])).toThrow(TypeError);
  });
});

describe("a features policy serves a changed catalogue", () => {
  const policy = featuresPolicy(8);
  const withNew: Catalogue = [...DEFAULT_CATALOGUE, pct15];
  const withoutPct20: Catalogue = DEFAULT_CATALOGUE.filter((p) => p.id !== "pct20");

  test("per-action policies keep refusing a catalogue that differs, with the reason", () => {
    expect(reasonOf(() => createDecisionEngine(qtablePolicy(1), withNew, spec))).toBe("action_mismatch");
    expect(reasonOf(() => createDecisionEngine(dqnPolicy([8]), withoutPct20, spec))).toBe("action_mismatch");
    expect(reasonOf(() => createDecisionEngine(policy, withNew, spec))).toBe("no error");
  });

  test("a removed promotion is never served; the rest are scored as before", () => {
    const full = createDecisionEngine(policy, DEFAULT_CATALOGUE, spec);
    const reduced = createDecisionEngine(policy, withoutPct20, spec);
    expect(reduced.newPromotions).toEqual([]);
    for (let i = 0; i < 300; i++) {
      const c = { ...BASE_CONTEXT, cartValue: 10 * (i % 12), visits: i % 7 };
      const d = reduced.decide(c, {}, `removed-${i}`);
      expect(d.promotion.id).not.toBe("pct20");
      expect(withoutPct20[d.actionIndex]).toBe(d.promotion);
      // Same promotions, same scores: probabilities over the common ones are proportional.
      const pFull = full.probabilities(c, eligibleMask(DEFAULT_CATALOGUE, c, {}));
      const pReduced = reduced.probabilities(c, eligibleMask(withoutPct20, c, {}));
      expect(pReduced.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(pFull.length - pReduced.length).toBe(1);
    }
  });

  test("a new promotion is scored from its attributes and explored with its share, exactly", () => {
    const engine = createDecisionEngine(policy, withNew, spec);
    expect(engine.newPromotions).toEqual(["pct15"]);
    // The Q-values themselves are checked against their definition above; here, the mixing.
    const qOf = compileInference(policy.model, withNew.map(encodePromotion));
    const { share } = DEFAULT_NEW_PROMOTION_EXPLORATION;
    fc.assert(
      fc.property(contextArb, fc.uuid(), (c, id) => {
        const mask = eligibleMask(withNew, c, {});
        const base = actionProbabilities(qOf(encodeFeatures(spec, c), 0), mask, policy.meta.exploration);
        const p = engine.probabilities(c, mask);
        const at = withNew.length - 1;
        p.forEach((pa, a) => {
          const want = (1 - share) * base[a]! + (a === at && mask[a] ? share : 0);
          expect(Math.abs(pa - want)).toBeLessThanOrEqual(1e-12);
        });
        const d = engine.decide(c, {}, id);
        expect(d.propensity).toBe(p[d.actionIndex]);
      }),
      { numRuns: 200 },
    );
  });

  test("the new promotion is served about as often as its probabilities say", () => {
    const engine = createDecisionEngine(policy, withNew, spec);
    const mask = eligibleMask(withNew, BASE_CONTEXT, {});
    const expected = engine.probabilities(BASE_CONTEXT, mask)[withNew.length - 1]!;
    let served = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (engine.decide(BASE_CONTEXT, {}, `draw-${i}`).promotion.id === "pct15") served++;
    const sd = Math.sqrt((expected * (1 - expected)) / n);
    expect(Math.abs(served / n - expected)).toBeLessThan(5 * sd);
    expect(expected).toBeGreaterThanOrEqual(DEFAULT_NEW_PROMOTION_EXPLORATION.share * (1 - 1e-9));
  });

  test("an edited promotion is new again; one the logs showed enough times is not", () => {
    const edited = DEFAULT_CATALOGUE.map((p) =>
      p.id === "pct10" ? { ...p, attributes: { ...p.attributes, depthPct: 12 } } : p,
    );
    expect(createDecisionEngine(policy, edited, spec).newPromotions).toEqual(["pct10"]);
    const rarelyShown = featuresPolicy(8, { decisions: 999 });
    expect(createDecisionEngine(rarelyShown, DEFAULT_CATALOGUE, spec).newPromotions).toEqual(
      DEFAULT_CATALOGUE.map((p) => p.id),
    );
    expect(
      createDecisionEngine(rarelyShown, DEFAULT_CATALOGUE, spec, undefined, { share: 0.1, untilDecisions: 999 })
        .newPromotions,
    ).toEqual([]);
  });

  test("with no new promotion eligible, the policy's own probabilities are served", () => {
    const engine = createDecisionEngine(policy, withNew, spec);
    const mask = eligibleMask(withNew, BASE_CONTEXT, {}, ["none", "pct10", "bundle"]);
    const q = compileInference(policy.model, withNew.map(encodePromotion))(encodeFeatures(spec, BASE_CONTEXT), 0);
    expect(Array.from(engine.probabilities(BASE_CONTEXT, mask))).toEqual(
      Array.from(actionProbabilities(q, mask, policy.meta.exploration)),
    );
    expect(greedyAction(q, mask)).toBeGreaterThanOrEqual(0);
  });
});

describe("catalogue document", () => {
  const valid = { promotions: [...DEFAULT_CATALOGUE, pct15] };

  test("parses, with the default new-promotion exploration when absent", () => {
    const doc = parseCatalogueDocument(JSON.stringify(valid));
    expect(doc.promotions.map((p) => p.id)).toContain("pct15");
    expect(doc.newPromotions).toEqual(DEFAULT_NEW_PROMOTION_EXPLORATION);
  });

  test.each([
    ["not JSON", "{", "not JSON"],
    ["no promotions", "{}", "promotions"],
    ["an empty list of promotions", JSON.stringify({ promotions: [] }), "promotions: Too small"],
    ["first is not none", JSON.stringify({ promotions: [pct15] }), 'kind "none"'],
    ["duplicate ids", JSON.stringify({ promotions: [DEFAULT_CATALOGUE[0], pct15, pct15] }), "unique"],
    [
      "a bad attribute",
      JSON.stringify({
        promotions: [DEFAULT_CATALOGUE[0], { ...pct15, attributes: { ...pct15.attributes, depthPct: 150 } }],
      }),
      "promotions.1.attributes.depthPct",
    ],
    [
      "an unknown kind",
      JSON.stringify({ promotions: [DEFAULT_CATALOGUE[0], { ...pct15, kind: "lottery" }] }),
      "promotions.1.kind",
    ],
  ])("refuses %s, naming it", (_what, text, fragment) => {
    expect(() => parseCatalogueDocument(text)).toThrow(CatalogueError);
    expect(() => parseCatalogueDocument(text)).toThrow(fragment);
  });

  test("the hash follows the content, not the key order", () => {
    const reordered = DEFAULT_CATALOGUE.map(
      (p) => Object.fromEntries(Object.entries(p).reverse()) as unknown as Promotion,
    );
    expect(catalogueHash(reordered)).toBe(catalogueHash(DEFAULT_CATALOGUE));
    expect(catalogueHash([...DEFAULT_CATALOGUE, pct15])).not.toBe(catalogueHash(DEFAULT_CATALOGUE));
  });
});
