import { beforeAll, describe, expect, test } from "vitest";
import { bootstrapInterval } from "../../trainer/ope/bootstrap.ts";
import { effectiveSampleSize, type PointEstimate } from "../../trainer/ope/estimate.ts";
import { doublyRobust, ips, onPolicyValue, snips } from "../../trainer/ope/one-step.ts";
import { fitRewardModel } from "../../trainer/ope/reward-model.ts";
import type { Dataset } from "../../trainer/data/dataset.ts";
import type { TargetPolicy } from "../../trainer/ope/target-policy.ts";
import {
  BANDIT,
  banditLog,
  banditValue,
  mean,
  tablePolicy,
  trueRewardModel,
  variance,
  type Table,
} from "./ope-fixtures.ts";

/** Deterministic: the argmax of the true mean reward among eligible actions. */
const GREEDY: Table = [
  [0, 1, 0],
  [0, 0, 1],
  [0, 1, 0],
];
const STOCHASTIC: Table = [
  [0.2, 0.2, 0.6],
  [0.1, 0.3, 0.6],
  [0.5, 0.5, 0],
];

const REPLICATES = 40;
const DECISIONS = 1000;
const LEVEL = 0.95;

type Estimator = (dataset: Dataset, target: TargetPolicy) => PointEstimate;
const ESTIMATORS: Record<string, Estimator> = {
  ips,
  snips,
  "dr (fitted model)": (dataset, target) => doublyRobust(dataset, target, fitRewardModel(dataset)),
  "dr (true model)": (dataset, target) => doublyRobust(dataset, target, trueRewardModel(BANDIT.meanReward)),
};

/** Each estimator's values and interval coverage of the truth over independent logs. */
function replicate(estimator: Estimator, table: Table): { values: number[]; covered: number } {
  const truth = banditValue(BANDIT, table);
  const target = tablePolicy("target", table);
  const values: number[] = [];
  let covered = 0;
  for (let r = 0; r < REPLICATES; r++) {
    const estimate = estimator(banditLog(BANDIT, DECISIONS, 1000 + r), target);
    const interval = bootstrapInterval(estimate.sample, { level: LEVEL, replicates: 200, seed: r });
    values.push(estimate.value);
    if (interval.lower <= truth && truth <= interval.upper) covered++;
  }
  return { values, covered };
}

describe.each([
  ["deterministic target", GREEDY],
  ["stochastic target", STOCHASTIC],
])("one-step estimators on a synthetic bandit, %s", (_, table) => {
  const truth = banditValue(BANDIT, table);
  let results: Record<string, { values: number[]; covered: number }> = {};
  beforeAll(() => {
    results = Object.fromEntries(
      Object.entries(ESTIMATORS).map(([name, estimator]) => [name, replicate(estimator, table)]),
    );
  });

  test.each(Object.keys(ESTIMATORS))(
    "%s: the 95%% bootstrap interval covers the truth in at least 85%% of replicates",
    (name) => {
      expect(results[name]!.covered).toBeGreaterThanOrEqual(0.85 * REPLICATES);
    },
  );

  test.each(Object.keys(ESTIMATORS))("%s: mean error across replicates is within 3 standard errors of 0", (name) => {
    const { values } = results[name]!;
    const standardError = Math.sqrt(variance(values) / values.length);
    expect(Math.abs(mean(values) - truth)).toBeLessThan(3 * standardError + 1e-3);
  });

  test("DR with the true reward model varies less than IPS", () => {
    expect(variance(results["dr (true model)"]!.values)).toBeLessThan(variance(results.ips!.values));
  });
});

describe("effective sample size", () => {
  test("is n for equal weights, 1 for a single nonzero weight, 0 for none", () => {
    expect(effectiveSampleSize([2, 2, 2, 2])).toBeCloseTo(4, 12);
    expect(effectiveSampleSize([0, 5, 0])).toBeCloseTo(1, 12);
    expect(effectiveSampleSize([0, 0])).toBe(0);
  });

  test("is n when the target is the logging policy itself, and for the on-policy estimate", () => {
    const log = banditLog(BANDIT, 500, 7);
    const logging = tablePolicy("logging", BANDIT.logging);
    for (const estimate of [ips(log, logging), snips(log, logging), onPolicyValue(log)])
      expect(estimate.ess).toBeCloseTo(500, 9);
  });

  test("is below n off-policy", () => {
    expect(ips(banditLog(BANDIT, 500, 7), tablePolicy("greedy", GREEDY)).ess).toBeLessThan(500);
  });
});

describe("one-step estimators on a hand-checked log", () => {
  const log = banditLog(BANDIT, 6, 3);
  const target = tablePolicy("stochastic", STOCHASTIC);
  const weights = log.steps.map(
    (step) => STOCHASTIC[log.states[step.state]!.stateKey]![step.action]! / step.propensity,
  );
  const rewards = log.steps.map((step) => step.reward);

  test("IPS is the mean of w·r and SNIPS divides Σw·r by Σw", () => {
    const weighted = weights.reduce((sum, w, i) => sum + w * rewards[i]!, 0);
    expect(ips(log, target).value).toBeCloseTo(weighted / weights.length, 12);
    expect(snips(log, target).value).toBeCloseTo(weighted / weights.reduce((a, b) => a + b, 0), 12);
  });

  test("DR adds the model's value under π to the weighted residual", () => {
    const model = trueRewardModel(BANDIT.meanReward);
    const terms = log.steps.map((step, i) => {
      const x = log.states[step.state]!.stateKey;
      const modelValue = STOCHASTIC[x]!.reduce((sum, p, a) => sum + p * BANDIT.meanReward[x]![a]!, 0);
      return modelValue + weights[i]! * (step.reward - BANDIT.meanReward[x]![step.action]!);
    });
    const estimate = doublyRobust(log, target, model);
    expect(estimate.value).toBeCloseTo(mean(terms), 6);
    expect([...estimate.meanTerms!]).toEqual(terms.map((t) => expect.closeTo(t, 6)));
  });

  test("SNIPS is undefined (NaN) when the target never takes a logged action", () => {
    const never = tablePolicy("never", [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(snips(log, never).value).toBeNaN();
    expect(snips(log, never).ess).toBe(0);
  });

  test("a propensity outside (0, 1] is refused", () => {
    const broken = { ...log, steps: log.steps.map((step, i) => (i === 0 ? { ...step, propensity: 0 } : step)) };
    expect(() => ips(broken, target)).toThrow(/propensity/);
  });
});

describe("fitted reward model", () => {
  test("shrinks each (state, action) mean toward the action's mean, itself shrunk toward the overall mean", () => {
    const log = banditLog(BANDIT, 300, 11);
    const k = 4;
    const model = fitRewardModel(log, { priorStrength: k });
    const all = mean(log.steps.map((s) => s.reward));
    const ofAction = log.steps.filter((s) => s.action === 1);
    const actionMean = (ofAction.reduce((sum, s) => sum + s.reward, 0) + k * all) / (ofAction.length + k);
    const cell = ofAction.filter((s) => log.states[s.state]!.stateKey === 0);
    const expected = (cell.reduce((sum, s) => sum + s.reward, 0) + k * actionMean) / (cell.length + k);
    expect(model(log.states[cell[0]!.state]!)[1]).toBeCloseTo(expected, 6);
    expect(model({ features: new Float32Array(3), stateKey: 99, eligible: Uint8Array.of(1, 1, 1) })[1]).toBeCloseTo(
      actionMean,
      6,
    );
  });

  test("approaches the true mean reward with plenty of data", () => {
    const log = banditLog(BANDIT, 20_000, 12);
    const model = fitRewardModel(log);
    const state = log.states.find((s) => s.stateKey === 1)!;
    [...model(state)].forEach((q, a) => expect(q).toBeCloseTo(BANDIT.meanReward[1]![a]!, 1));
  });
});
