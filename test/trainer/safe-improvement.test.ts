import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC as spec, stateKey } from "../../shared/features.ts";
import { createRng } from "../../shared/rng.ts";
import type { Dataset, LoggedState, Step } from "../../trainer/data/dataset.ts";
import { laterReturns, transitionColumns } from "../../trainer/data/transitions.ts";
import { actionProbabilities } from "../../shared/policy/explore.ts";
import {
  learnSafeImprovement,
  LOG_PROBABILITY_EXPLORATION,
  MAX_STATE_EXPLORATION,
  type SafeImprovementOptions,
} from "../../trainer/learn/safe-improvement.ts";
import { BASE_CONTEXT } from "../shared/helpers.ts";
import { gaussian } from "./ope-fixtures.ts";

const ACTIONS = DEFAULT_ACTION_IDS;
const BUNDLE = ACTIONS.indexOf("bundle");
/** A first-time visitor with a cart big enough for every promotion, who has seen none lately. */
const BASE: Context = {
  ...BASE_CONTEXT,
  cartValue: 100,
  visits: 1,
  daysSinceLastVisit: null,
  purchases: 0,
  daysSinceLastPurchase: null,
  promosSeen7d: 0,
  lastPromotion: null,
};
/** A: where the bundle truly pays; B: elsewhere in every pooled group (other cart and referrer); C: A, after a promotion. */
const KEYS = {
  A: stateKey(spec, BASE),
  B: stateKey(spec, { ...BASE, referrer: "social", cartValue: 50 }),
  C: stateKey(spec, { ...BASE, promosSeen7d: 1, lastPromotion: "pct10" }),
};

/** Uniform logging over every action at the given keys; `effect(key, action)` is added to N(0, sd²) rewards. */
function uniformLogs(
  rowsPerKey: number,
  effect: (key: number, action: number) => number,
  sd: number,
  seed = 1,
): Dataset {
  const rng = createRng(seed);
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  for (const key of Object.values(KEYS)) {
    for (let i = 0; i < rowsPerKey; i++) {
      const action = Math.floor(rng() * ACTIONS.length);
      const index = states.length;
      states.push({
        stateKey: key,
        eligible: new Uint8Array(ACTIONS.length).fill(1),
        features: new Float32Array(spec.width),
      });
      steps.push({
        state: index,
        action,
        propensity: 1 / ACTIONS.length,
        reward: effect(key, action) + sd * gaussian(rng),
        next: -1,
        visitor: `v${index}`,
        ts: index,
        decisionId: `d${index}`,
      });
    }
  }
  return {
    actions: ACTIONS,
    featureSpecHash: spec.hash,
    featureWidth: spec.width,
    stateCount: spec.stateCount,
    slotNames: spec.slotNames,
    states,
    steps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: steps.length },
  };
}

const learn = (
  data: Dataset,
  overrides: { z?: number; minCount?: number; explore?: SafeImprovementOptions["explore"] } = {},
) =>
  learnSafeImprovement(data, spec, {
    gamma: 0.95,
    control: 0,
    z: overrides.z ?? 2,
    shrinkage: 200,
    minCount: overrides.minCount ?? 100,
    exploration: 0.05,
    explore: overrides.explore ?? "plausible",
    immediateLevels: [[], ["cartValue"], ["cartValue", "referrer"], ["cartValue", "referrer", "purchases"]],
    laterLevels: [[], ["cartValue"]],
    unexposedField: "promosSeen7d",
  });
const row = (q: Float32Array, key: number) => Array.from(q.subarray(key * ACTIONS.length, (key + 1) * ACTIONS.length));
const ALL_ELIGIBLE = new Uint8Array(ACTIONS.length).fill(1);
/** What the edge draws from at `key` with every action eligible. */
const served = (q: Float32Array, key: number) =>
  Array.from(actionProbabilities(row(q, key), ALL_ELIGIBLE, LOG_PROBABILITY_EXPLORATION));
const greedy = (q: Float32Array, key: number) => {
  const p = served(q, key);
  return p.indexOf(Math.max(...p));
};

describe("learnSafeImprovement", () => {
  test("keeps the control everywhere when no promotion changes anything", () => {
    const result = learn(
      uniformLogs(7000, () => 0, 5),
      { z: 3 },
    );
    expect(result.deviationShare).toBe(0);
    for (const key of Object.values(KEYS)) {
      expect(greedy(result.q, key)).toBe(0);
      // Nothing is ruled out either: the 5% explored is spread over every action.
      const p = served(result.q, key);
      expect(p[0]).toBeCloseTo(0.95 + 0.05 / ACTIONS.length, 6);
      for (const share of p.slice(1)) expect(share).toBeCloseTo(0.05 / ACTIONS.length, 6);
    }
  });

  test("deviates where a promotion's advantage is proven, and only there", () => {
    const result = learn(uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 4 : 0), 1));
    expect(greedy(result.q, KEYS.A)).toBe(BUNDLE);
    expect(served(result.q, KEYS.A)[BUNDLE]).toBeGreaterThan(0.95);
    expect(greedy(result.q, KEYS.B)).toBe(0);
    expect(result.deviationShare).toBeCloseTo(1 / 3, 2);
  });

  test("stops exploring, in a state, the promotions the logs show to lose there, and explores the rest exactly", () => {
    const PCT20 = ACTIONS.indexOf("pct20");
    const result = learn(uniformLogs(7000, (_key, a) => (a === PCT20 ? -4 : 0), 1));
    const p = served(result.q, KEYS.A);
    expect(p[PCT20]).toBe(0);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[0]).toBeCloseTo(0.95 + 0.05 / (ACTIONS.length - 1), 6);
    p.forEach((share, a) => {
      if (a !== 0 && a !== PCT20) expect(share).toBeCloseTo(0.05 / (ACTIONS.length - 1), 6);
    });
  });

  test("explores only the most promising unproven promotion when told to, besides the control", () => {
    // +1.5 with noise 20 over 1,000 rows per action: not proven, but the highest upper bound at A.
    const data = uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 1.5 : 0), 20);
    const p = served(learn(data, { explore: "most-promising" }).q, KEYS.A);
    expect(greedy(learn(data).q, KEYS.A)).toBe(0);
    expect(p[0]).toBeCloseTo(0.975, 6);
    expect(p[BUNDLE]).toBeCloseTo(0.025, 6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  test("concentrates the exploration on the states where a switch is still possible, the same share overall", () => {
    // At A, bundle is promising (+1.5, noise 20: unproven); at B and C every promotion loses.
    const data = uniformLogs(7000, (key, a) => (a === 0 ? 0 : key === KEYS.A && a === BUNDLE ? 1.5 : -4), 20);
    const result = learn(data, { explore: "promising-states" });
    const atA = served(result.q, KEYS.A);
    const share = Math.min(
      MAX_STATE_EXPLORATION,
      0.05 / (data.states.filter((s) => s.stateKey === KEYS.A).length / data.states.length),
    );
    // The explored share is drawn over the control and the promising promotion alike.
    expect(atA[BUNDLE]).toBeCloseTo(share / 2, 6);
    expect(atA[0]).toBeCloseTo(1 - share / 2, 6);
    for (const key of [KEYS.B, KEYS.C]) expect(served(result.q, key)[0]).toBe(1);
  });

  test("switches a state only to a promotion that was eligible at every logged visit there", () => {
    const data = uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 4 : 0), 1);
    const first = data.states.find((s) => s.stateKey === KEYS.A)!;
    first.eligible = Uint8Array.from(first.eligible, (e, a) => (a === BUNDLE ? 0 : e));
    expect(greedy(learn(data).q, KEYS.A)).toBe(0);
  });

  test("never deviates where the evidence is below its threshold: a real but unproven gain stays with the control", () => {
    // +0.5 with noise 20 over 1,000 rows per action: the lower bound is far below 0.
    const result = learn(uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 0.5 : 0), 20));
    expect(greedy(result.q, KEYS.A)).toBe(0);
    expect(result.deviationShare).toBe(0);
  });

  test("never chooses a promotion logged fewer than minCount times, however good it looks", () => {
    const result = learn(
      uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 4 : 0), 1),
      {
        minCount: 10_000,
      },
    );
    expect(greedy(result.q, KEYS.A)).toBe(0);
  });

  test("only deviates where the visitor has seen no promotion lately", () => {
    const result = learn(
      uniformLogs(7000, (key, a) => ((key === KEYS.A || key === KEYS.C) && a === BUNDLE ? 4 : 0), 1),
    );
    expect(greedy(result.q, KEYS.A)).toBe(BUNDLE);
    expect(greedy(result.q, KEYS.C)).toBe(0);
  });

  test("refuses logs of another feature spec and a control that is not an action", () => {
    const data = uniformLogs(10, () => 0, 1);
    expect(() => learn({ ...data, featureSpecHash: "other" })).toThrow(/feature spec/);
    expect(() =>
      learnSafeImprovement(data, spec, {
        gamma: 0.9,
        control: 99,
        z: 2,
        shrinkage: 1,
        minCount: 1,
        exploration: 0.05,
        explore: "plausible",
        immediateLevels: [[]],
        laterLevels: [[]],
        unexposedField: null,
      }),
    ).toThrow(/control/);
  });
});

describe("laterReturns", () => {
  test("is γ times the discounted return of the visitor's later decisions, 0 after the last", () => {
    const data = uniformLogs(3, () => 0, 0);
    // One visitor's chain over the first three steps: rewards 1, 2, 4.
    data.steps[0] = { ...data.steps[0]!, reward: 1, next: 1 };
    data.steps[1] = { ...data.steps[1]!, reward: 2, next: 2 };
    data.steps[2] = { ...data.steps[2]!, reward: 4, next: -1 };
    const later = laterReturns(transitionColumns(data), 0.5);
    expect(Array.from(later.subarray(0, 3))).toEqual([0.5 * (2 + 0.5 * 4), 0.5 * 4, 0]);
  });
});
