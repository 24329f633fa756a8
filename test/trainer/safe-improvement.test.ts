import { describe, expect, test } from "vitest";
import { DEFAULT_COMPILED_SPEC as spec } from "../../shared/features.ts";
import type { Dataset } from "../../trainer/data/dataset.ts";
import { laterReturns, transitionColumns } from "../../trainer/data/transitions.ts";
import { actionProbabilities } from "../../shared/policy/explore.ts";
import {
  learnSafeImprovement,
  LOG_PROBABILITY_EXPLORATION,
  MAX_STATE_EXPLORATION,
  type SafeImprovementOptions,
} from "../../trainer/learn/safe-improvement.ts";
import { ACTIONS, BUNDLE, KEYS, uniformLogs } from "./helpers/state-key-logs.ts";

const learn = (
  data: Dataset,
  overrides: {
    z?: number;
    minCount?: number;
    explore?: SafeImprovementOptions["explore"];
    servedChoices?: Int32Array;
  } = {},
) =>
  learnSafeImprovement(
    data,
    spec,
    {
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
    },
    overrides.servedChoices ?? null,
  );
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

describe("learnSafeImprovement: the table that keeps the served choices", () => {
  const switchAtA = uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 4 : 0), 1);

  test("is absent when the learner changes no choice", () => {
    const result = learn(
      uniformLogs(7000, () => 0, 5),
      { z: 3 },
    );
    expect(result.newChoices).toBe(0);
    expect(result.keepingChoices).toBeNull();
  });

  test("keeps the control where the learner switched, explores the switch there, and equals the learned table elsewhere", () => {
    const result = learn(switchAtA, { explore: "most-promising" });
    expect(greedy(result.q, KEYS.A)).toBe(BUNDLE);
    expect(result.newChoices).toBeGreaterThan(0);
    const keeping = result.keepingChoices!;
    expect(greedy(keeping, KEYS.A)).toBe(0);
    const p = served(keeping, KEYS.A);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // The 5% explored goes to the control, the switch and the most promising other promotion alike.
    expect(p[BUNDLE]).toBeCloseTo(0.05 / 3, 6);
    expect(p[0]).toBeCloseTo(0.95 + 0.05 / 3, 6);
    expect(p.filter((share) => share > 0)).toHaveLength(3);
    for (const key of [KEYS.B, KEYS.C]) expect(row(keeping, key)).toEqual(row(result.q, key));
  });

  test("keeps what the current policy serves: no table where it already makes the learned switch", () => {
    const servedChoices = new Int32Array(spec.stateCount);
    const withSwitch = learn(switchAtA);
    for (let key = 0; key < spec.stateCount; key++) servedChoices[key] = greedy(withSwitch.q, key);
    const result = learn(switchAtA, { servedChoices });
    expect(result.newChoices).toBe(0);
    expect(result.keepingChoices).toBeNull();
    // Served bundle at B, where nothing pays: the learner goes back to the control, and the keeping table keeps bundle.
    servedChoices[KEYS.B] = BUNDLE;
    const back = learn(switchAtA, { servedChoices });
    expect(back.newChoices).toBe(1);
    expect(greedy(back.q, KEYS.B)).toBe(0);
    expect(greedy(back.keepingChoices!, KEYS.B)).toBe(BUNDLE);
  });

  test("refuses served choices that are not one action per state key", () => {
    expect(() => learn(switchAtA, { servedChoices: new Int32Array(3) })).toThrow(/servedChoices/);
    expect(() => learn(switchAtA, { servedChoices: new Int32Array(spec.stateCount).fill(ACTIONS.length) })).toThrow(
      /servedChoices/,
    );
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
