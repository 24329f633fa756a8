import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE, eligibleMask, type ExposureCounts } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { createDecisionEngine, FALLBACK_VERSION, type Decision } from "../../shared/decide.ts";
import {
  compileFeatureSpec,
  DEFAULT_COMPILED_SPEC,
  DEFAULT_FEATURE_SPEC,
  encodeFeatures,
  stateKey,
} from "../../shared/features.ts";
import { actionProbabilities, greedyAction } from "../../shared/policy/explore.ts";
import { decodePolicy, encodePolicy } from "../../shared/policy/format.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Policy } from "../../shared/policy/types.ts";
import { BASE_CONTEXT, contextArb, dqnPolicy, makeMeta, qtablePolicy, reasonOf } from "./helpers.ts";

const spec = DEFAULT_COMPILED_SPEC;
const exposuresArb: fc.Arbitrary<ExposureCounts> = fc.dictionary(
  fc.constantFrom(...DEFAULT_ACTION_IDS),
  fc.integer({ min: 0, max: 4 }),
);
const idArb = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 }));
const candidatesArb = fc.option(fc.subarray([...DEFAULT_ACTION_IDS]), { nil: undefined });

/** A decision with its feature vector copied out of the engine's reused buffer. */
const snapshot = (d: Decision) => ({
  ...d,
  features: Float32Array.from(d.features),
  eligible: Uint8Array.from(d.eligible),
});

const POLICIES: [string, Policy][] = [
  ["qtable, softmax", qtablePolicy(31)],
  ["qtable, epsilon", qtablePolicy(32, { exploration: { type: "epsilon", epsilon: 0.1, floor: 0.01 } })],
  ["dqn, softmax", dqnPolicy([32, 16], 33)],
  ["dqn, epsilon", dqnPolicy([16], 34, { exploration: { type: "epsilon", epsilon: 0.2, floor: 0 } })],
];

describe("fallback engine (no policy)", () => {
  const engine = createDecisionEngine(null, DEFAULT_CATALOGUE, spec);

  test("reports the fallback version", () => {
    expect(engine.version).toBe(FALLBACK_VERSION);
    expect(FALLBACK_VERSION).toBe("fallback");
    expect(engine.policy).toBeNull();
  });

  test("is uniform over the eligible actions", () => {
    fc.assert(
      fc.property(contextArb, exposuresArb, idArb, candidatesArb, (c, exposures, id, candidates) => {
        const d = engine.decide(c, exposures, id, candidates);
        const mask = eligibleMask(DEFAULT_CATALOGUE, c, exposures, candidates);
        const n = mask.reduce((a, b) => a + b, 0);
        expect([...d.eligible]).toEqual([...mask]);
        expect(d.eligible[d.actionIndex]).toBe(1);
        expect(d.promotion).toBe(DEFAULT_CATALOGUE[d.actionIndex]);
        expect(d.propensity).toBeCloseTo(1 / n, 15);
      }),
    );
  });

  test("draws every eligible action about equally often across decision ids", () => {
    const c: Context = { ...BASE_CONTEXT, cartValue: 100, country: "DE" }; // everything eligible
    const N = 7000;
    const hits = new Array<number>(DEFAULT_CATALOGUE.length).fill(0);
    for (let i = 0; i < N; i++) hits[engine.decide(c, {}, `decision-${i}`).actionIndex]!++;
    // Binomial(7000, 1/7): sd ≈ 29, so ±175 is six deviations.
    for (const h of hits) expect(Math.abs(h - N / 7)).toBeLessThan(175);
  });
});

describe.each(POLICIES)("engine with a policy: %s", (_name, policy) => {
  test("reports the policy's version", () => {
    const engine = createDecisionEngine(policy, DEFAULT_CATALOGUE, spec);
    expect(engine.version).toBe(policy.meta.version);
    expect(engine.policy).toBe(policy);
  });

  test("replays: the same inputs and decision id give an identical decision, on this engine or a fresh one", () => {
    const engine = createDecisionEngine(policy, DEFAULT_CATALOGUE, spec);
    fc.assert(
      fc.property(contextArb, exposuresArb, idArb, candidatesArb, contextArb, (c, exposures, id, candidates, other) => {
        const first = snapshot(engine.decide(c, exposures, id, candidates));
        engine.decide(other, {}, `${id}-other`); // an unrelated decision in between
        const again = snapshot(engine.decide(c, exposures, id, candidates));
        const fresh = snapshot(
          createDecisionEngine(policy, DEFAULT_CATALOGUE, spec).decide(c, exposures, id, candidates),
        );
        expect(again).toEqual(first);
        expect(fresh).toEqual(first);
      }),
      { numRuns: 100 },
    );
  });

  test("its features, state key and propensity are the shared functions' answers", () => {
    const engine = createDecisionEngine(policy, DEFAULT_CATALOGUE, spec);
    const q = compileInference(policy.model);
    fc.assert(
      fc.property(contextArb, exposuresArb, idArb, candidatesArb, (c, exposures, id, candidates) => {
        const d = engine.decide(c, exposures, id, candidates);
        const features = encodeFeatures(spec, c);
        expect([...d.features]).toEqual([...features]);
        expect(d.stateKey).toBe(stateKey(spec, c));
        expect([...d.eligible]).toEqual([...eligibleMask(DEFAULT_CATALOGUE, c, exposures, candidates)]);
        const values = Float32Array.from(q(features, d.stateKey));
        const p = actionProbabilities(values, d.eligible, policy.meta.exploration);
        expect(d.eligible[d.actionIndex]).toBe(1);
        expect(d.propensity).toBe(p[d.actionIndex]);
        expect(d.propensity).toBeGreaterThan(0);
        expect(d.explored).toBe(d.actionIndex !== greedyAction(values, d.eligible));
        expect(d.promotion.id).toBe(DEFAULT_ACTION_IDS[d.actionIndex]);
      }),
      { numRuns: 200 },
    );
  });

  test("a policy that went through encode/decode decides exactly as the original", () => {
    const original = createDecisionEngine(policy, DEFAULT_CATALOGUE, spec);
    const decoded = createDecisionEngine(
      decodePolicy(encodePolicy(policy), { featureSpecHash: spec.hash, actions: DEFAULT_ACTION_IDS }),
      DEFAULT_CATALOGUE,
      spec,
    );
    fc.assert(
      fc.property(contextArb, exposuresArb, idArb, (c, exposures, id) => {
        expect(snapshot(decoded.decide(c, exposures, id))).toEqual(snapshot(original.decide(c, exposures, id)));
      }),
      { numRuns: 100 },
    );
  });
});

describe("engine refuses a policy that does not fit", () => {
  test("trained on another feature spec", () => {
    const other = compileFeatureSpec({ ...DEFAULT_FEATURE_SPEC, name: "edge-promo/v2" });
    expect(reasonOf(() => createDecisionEngine(qtablePolicy(1), DEFAULT_CATALOGUE, other))).toBe("spec_mismatch");
    expect(
      reasonOf(() =>
        createDecisionEngine(qtablePolicy(1, { featureSpecHash: "0000000000000000" }), DEFAULT_CATALOGUE, spec),
      ),
    ).toBe("spec_mismatch");
  });

  test("with other actions, even of the same number", () => {
    const renamed = DEFAULT_ACTION_IDS.map((id) => (id === "gift" ? "gift_v2" : id));
    expect(reasonOf(() => createDecisionEngine(qtablePolicy(1, { actions: renamed }), DEFAULT_CATALOGUE, spec))).toBe(
      "action_mismatch",
    );
    expect(reasonOf(() => createDecisionEngine(qtablePolicy(1), DEFAULT_CATALOGUE.slice(0, 5), spec))).toBe(
      "action_mismatch",
    );
  });

  test("whose model has the wrong shape", () => {
    expect(
      reasonOf(() => createDecisionEngine(qtablePolicy(1, {}, spec.stateCount - 1), DEFAULT_CATALOGUE, spec)),
    ).toBe("shape_mismatch");
    const narrow: Policy = {
      meta: makeMeta(),
      model: {
        algorithm: "dqn",
        layers: [
          {
            inputs: spec.width - 1,
            outputs: 7,
            kernel: new Float32Array((spec.width - 1) * 7),
            bias: new Float32Array(7),
          },
        ],
      },
    };
    expect(reasonOf(() => createDecisionEngine(narrow, DEFAULT_CATALOGUE, spec))).toBe("shape_mismatch");
  });

  test("and accepts one that fits", () => {
    for (const [, policy] of POLICIES)
      expect(reasonOf(() => createDecisionEngine(policy, DEFAULT_CATALOGUE, spec))).toBe("no error");
  });
});
