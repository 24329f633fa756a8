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
import { BASE_CONTEXT, contextArb, controlPropensity, dqnPolicy, makeMeta, qtablePolicy, reasonOf } from "./helpers.ts";

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

  test("serves the control, exploring its share over the eligible actions with exact propensities", () => {
    fc.assert(
      fc.property(contextArb, exposuresArb, idArb, candidatesArb, (c, exposures, id, candidates) => {
        const d = engine.decide(c, exposures, id, candidates);
        const mask = eligibleMask(DEFAULT_CATALOGUE, c, exposures, candidates);
        const n = mask.reduce((a, b) => a + b, 0);
        expect([...d.eligible]).toEqual([...mask]);
        expect(d.eligible[d.actionIndex]).toBe(1);
        expect(d.promotion).toBe(DEFAULT_CATALOGUE[d.actionIndex]);
        expect(d.propensity).toBeCloseTo(controlPropensity(d.promotion.id, n), 15);
        const p = engine.probabilities(c, mask);
        expect(p[d.actionIndex]).toBeCloseTo(d.propensity, 15);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }),
    );
  });

  test("any control and share: the probabilities are exact and sum to 1 (property)", () => {
    const controlArb = fc.record({
      action: fc.constantFrom(...DEFAULT_ACTION_IDS),
      exploration: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(controlArb, contextArb, exposuresArb, idArb, (control, c, exposures, id) => {
        const engine = createDecisionEngine(null, DEFAULT_CATALOGUE, spec, control);
        const mask = eligibleMask(DEFAULT_CATALOGUE, c, exposures);
        const n = mask.reduce((a, b) => a + b, 0);
        const p = engine.probabilities(c, mask);
        const controlIndex = DEFAULT_ACTION_IDS.indexOf(control.action);
        for (let a = 0; a < p.length; a++) {
          if (!mask[a]) expect(p[a]).toBe(0);
          else if (a === controlIndex) expect(p[a]).toBeCloseTo(1 - control.exploration + control.exploration / n, 12);
          else if (mask[controlIndex]) expect(p[a]).toBeCloseTo(control.exploration / n, 12);
        }
        expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
        const d = engine.decide(c, exposures, id);
        expect(d.propensity).toBeCloseTo(p[d.actionIndex]!, 15);
      }),
    );
  });

  test("exploring everything is uniform; exploring nothing is the control alone", () => {
    const c: Context = { ...BASE_CONTEXT, cartValue: 100, country: "DE" }; // everything eligible
    const uniform = createDecisionEngine(null, DEFAULT_CATALOGUE, spec, { action: "none", exploration: 1 });
    const mask = eligibleMask(DEFAULT_CATALOGUE, c, {});
    for (const p of uniform.probabilities(c, mask)) expect(p).toBeCloseTo(1 / 7, 15);
    const control = createDecisionEngine(null, DEFAULT_CATALOGUE, spec, { action: "bundle", exploration: 0 });
    for (let i = 0; i < 50; i++)
      expect(control.decide(c, {}, `d-${i}`)).toMatchObject({ promotion: { id: "bundle" }, propensity: 1 });
  });

  test("draws the control and the explored actions as often as their probabilities say", () => {
    const c: Context = { ...BASE_CONTEXT, cartValue: 100, country: "DE" }; // everything eligible
    const N = 20000;
    const hits = new Array<number>(DEFAULT_CATALOGUE.length).fill(0);
    for (let i = 0; i < N; i++) hits[engine.decide(c, {}, `decision-${i}`).actionIndex]!++;
    DEFAULT_ACTION_IDS.forEach((id, a) => {
      const p = controlPropensity(id, 7);
      // Six binomial standard deviations.
      expect(Math.abs(hits[a]! - N * p)).toBeLessThan(6 * Math.sqrt(N * p * (1 - p)) + 1);
    });
  });

  test("refuses a control the catalogue cannot serve", () => {
    expect(() => createDecisionEngine(null, DEFAULT_CATALOGUE, spec, { action: "nope", exploration: 0.1 })).toThrow(
      RangeError,
    );
    expect(() => createDecisionEngine(null, DEFAULT_CATALOGUE, spec, { action: "none", exploration: 1.5 })).toThrow(
      RangeError,
    );
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
    const other = compileFeatureSpec({ ...DEFAULT_FEATURE_SPEC, name: "edge-promo/other" });
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
