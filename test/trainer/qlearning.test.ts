import { describe, expect, test } from "vitest";
import { compileInference } from "../../shared/policy/infer.ts";
import { greedyAction } from "../../shared/policy/explore.ts";
import { DEFAULT_EXPLORATION, policyMeta } from "../../trainer/learn/policy-meta.ts";
import { learnQTable, qtableToPolicy, type QLearningResult } from "../../trainer/learn/qlearning.ts";
import { datasetOf, syntheticBandit, type StepSpec } from "./helpers/datasets.ts";

const ACTIONS = ["none", "promo", "big"];
const NONE = 0;
const PROMO = 1;
const BIG = 2;
const A = 0;
const B = 1;

/**
 * A two-state chain. In A, "promo" pays 1 at once and ends the visit; "none" pays nothing but the
 * visitor comes back in B, where "promo" pays 3. "big" pays 10 in B, but only where a large cart makes
 * it eligible: logged state 1 (B, big eligible) is never anyone's next state, logged state 2 (B, big
 * ineligible) is where the chain from A lands.
 *
 *   Q*(B, none) = 0, Q*(B, promo) = 3, Q*(B, big) = 10
 *   Q*(A, promo) = 1, Q*(A, none) = γ · max(Q*(B, none), Q*(B, promo)) = 3γ   (big is ineligible there)
 *
 * So the greedy action in A is "none" when 3γ > 1 and the myopic "promo" when γ = 0.
 */
function chainDataset(repeats: number) {
  const states = [
    { key: A, eligible: [1, 1, 0] },
    { key: B, eligible: [1, 1, 1] },
    { key: B, eligible: [1, 1, 0] },
  ];
  const steps: StepSpec[] = [];
  for (let i = 0; i < repeats; i++) {
    steps.push(
      { state: 0, action: NONE, reward: 0, next: 2 },
      { state: 2, action: PROMO, reward: 3 },
      { state: 0, action: PROMO, reward: 1 },
      { state: 2, action: NONE, reward: 0 },
      { state: 1, action: BIG, reward: 10 },
    );
  }
  return datasetOf(ACTIONS, 2, states, steps);
}

const row = (result: QLearningResult, state: number) =>
  Array.from(result.q.subarray(state * result.actionCount, (state + 1) * result.actionCount));

describe("learnQTable on a chain where the myopic action loses", () => {
  const gamma = 0.9;
  const optimalA = [3 * gamma, 1, 0];
  const optimalB = [0, 3, 10];

  test("sample-average sweeps reach Q* exactly and prefer waiting in A", () => {
    const result = learnQTable(chainDataset(5), { gamma, alpha: "sample-average", tolerance: 1e-9, maxSweeps: 50 });
    expect(result.converged).toBe(true);
    row(result, A).forEach((q, a) => expect(q).toBeCloseTo(optimalA[a]!, 5));
    row(result, B).forEach((q, a) => expect(q).toBeCloseTo(optimalB[a]!, 5));
    expect(greedyAction(row(result, A), [1, 1, 0])).toBe(NONE);
  });

  test("a constant learning rate converges to the same Q*", () => {
    const result = learnQTable(chainDataset(3), { gamma, alpha: 0.3, tolerance: 1e-7, maxSweeps: 2000 });
    expect(result.converged).toBe(true);
    row(result, A).forEach((q, a) => expect(q).toBeCloseTo(optimalA[a]!, 4));
    row(result, B).forEach((q, a) => expect(q).toBeCloseTo(optimalB[a]!, 4));
  });

  test("the max over the next state skips actions ineligible there, however valuable", () => {
    const result = learnQTable(chainDataset(1), { gamma, tolerance: 1e-9 });
    // Had "big" counted, Q(A, none) would be 9.
    expect(row(result, A)[NONE]).toBeCloseTo(2.7, 5);
  });

  test("with γ = 0 it is a contextual bandit and the greedy action in A is the myopic one", () => {
    const result = learnQTable(chainDataset(4), { gamma: 0, tolerance: 1e-9 });
    expect(row(result, A)).toEqual([0, 1, 0]);
    expect(greedyAction(row(result, A), [1, 1, 0])).toBe(PROMO);
  });

  test("reports one stats row per sweep, the last under the tolerance when converged", () => {
    const result = learnQTable(chainDataset(2), { gamma, tolerance: 1e-6 });
    expect(result.history).toHaveLength(result.sweeps);
    expect(result.history.map((s) => s.sweep)).toEqual(Array.from({ length: result.sweeps }, (_, i) => i + 1));
    expect(result.history.at(-1)!.maxDelta).toBeLessThan(1e-6);
    // Mean over the five visited pairs at Q*.
    expect(result.history.at(-1)!.meanQ).toBeCloseTo((2.7 + 1 + 0 + 3 + 10) / 5, 5);
    expect(result.transitionsPerSecond).toBeGreaterThan(0);
  });

  test("stops at maxSweeps without claiming convergence", () => {
    const result = learnQTable(chainDataset(2), { gamma, alpha: 0.01, tolerance: 1e-12, maxSweeps: 3 });
    expect(result.sweeps).toBe(3);
    expect(result.converged).toBe(false);
  });
});

describe("learnQTable as a contextual bandit (γ = 0)", () => {
  test("sample-average Q is the mean logged reward of each (state, action) pair", () => {
    const dataset = syntheticBandit({
      contexts: 5,
      actions: 4,
      steps: 3000,
      noiseWidth: 0,
      rewardNoise: 2,
      ineligibleRate: 0.2,
      seed: 3,
    });
    const result = learnQTable(dataset, { gamma: 0, alpha: "sample-average", tolerance: 1e-9 });

    const sums = new Float64Array(5 * 4);
    const counts = new Uint32Array(5 * 4);
    for (const step of dataset.steps) {
      const cell = dataset.states[step.state]!.stateKey * 4 + step.action;
      sums[cell]! += step.reward;
      counts[cell]!++;
    }
    for (let cell = 0; cell < sums.length; cell++) {
      expect(result.visits[cell]).toBe(counts[cell]);
      expect(result.q[cell]).toBeCloseTo(counts[cell] ? sums[cell]! / counts[cell]! : 0, 5);
    }
    // The second sweep reproduces the first exactly.
    expect(result.sweeps).toBe(2);
    expect(result.converged).toBe(true);
  });
});

describe("unvisited pairs", () => {
  test("keep Q = 0, so an unseen state serves action 0", () => {
    const dataset = datasetOf(ACTIONS, 4, [{ key: 1, eligible: [1, 1, 1] }], [{ state: 0, action: PROMO, reward: -2 }]);
    const result = learnQTable(dataset, { gamma: 0.5 });
    expect(Array.from(result.visits)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(result.q)).toEqual([0, 0, 0, 0, -2, 0, 0, 0, 0, 0, 0, 0]);
    expect(greedyAction(row(result, 3), [1, 1, 1])).toBe(NONE);
  });
});

describe("input validation", () => {
  test("refuses a state key outside the table and out-of-range hyper-parameters", () => {
    const outside = datasetOf(ACTIONS, 2, [{ key: 2, eligible: [1, 1, 1] }], [{ state: 0, action: 0, reward: 0 }]);
    expect(() => learnQTable(outside)).toThrow(RangeError);
    const fine = chainDataset(1);
    expect(() => learnQTable(fine, { gamma: 1 })).toThrow(/gamma/);
    expect(() => learnQTable(fine, { alpha: 0 })).toThrow(/alpha/);
  });
});

describe("qtableToPolicy", () => {
  test("wraps the table so that shared inference returns its rows", () => {
    const dataset = chainDataset(1);
    const result = learnQTable(dataset, { gamma: 0.9 });
    const policy = qtableToPolicy(result, policyMeta(dataset, { version: "v-test", createdAt: new Date(0) }));
    expect(policy.meta).toMatchObject({
      actions: ACTIONS,
      featureSpecHash: "test-spec",
      createdAt: "1970-01-01T00:00:00.000Z",
    });
    expect(policy.meta.exploration).toEqual(DEFAULT_EXPLORATION);
    const q = compileInference(policy.model);
    expect(Array.from(q(new Float32Array(1), B))).toEqual(row(result, B));
  });

  test("refuses metadata whose action list does not match the table", () => {
    const dataset = chainDataset(1);
    const result = learnQTable(dataset);
    expect(() => qtableToPolicy(result, policyMeta({ ...dataset, actions: ["none"] }, { version: "v" }))).toThrow(
      RangeError,
    );
  });
});
