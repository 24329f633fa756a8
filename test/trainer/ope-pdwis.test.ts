import { describe, expect, test } from "vitest";
import type { Dataset, LoggedState, Step } from "../../trainer/data/dataset.ts";
import { bootstrapInterval } from "../../trainer/ope/bootstrap.ts";
import { visitorEpisodes } from "../../trainer/ope/episodes.ts";
import { snips } from "../../trainer/ope/one-step.ts";
import { onPolicyReturn, pdwis } from "../../trainer/ope/pdwis.ts";
import { MDP, mdpLog, mdpValue, mean, tablePolicy, variance, type Table } from "./ope-fixtures.ts";

const GAMMA = 0.9;
const DETERMINISTIC: Table = [
  [0, 1],
  [1, 0],
];
const STOCHASTIC: Table = [
  [0.3, 0.7],
  [0.8, 0.2],
];

describe.each([
  ["deterministic target", DETERMINISTIC],
  ["stochastic target", STOCHASTIC],
])("PDWIS on a two-state MDP with a known discounted value, %s", (_, table) => {
  const truth = mdpValue(MDP, table, GAMMA);
  const target = tablePolicy("target", table);

  test("is close to the exact value on a large log", () => {
    const estimate = pdwis(mdpLog(MDP, 40_000, 5), target, GAMMA);
    expect(Math.abs(estimate.value - truth)).toBeLessThan(0.03 * Math.max(1, Math.abs(truth)));
  });

  test("its visitor-bootstrap 95% interval covers the exact value in at least 85% of replicates, with small mean error", () => {
    const replicates = 40;
    const values: number[] = [];
    let covered = 0;
    for (let r = 0; r < replicates; r++) {
      const estimate = pdwis(mdpLog(MDP, 1000, 2000 + r), target, GAMMA);
      expect(estimate.sample.unit).toBe("visitor");
      const interval = bootstrapInterval(estimate.sample, { level: 0.95, replicates: 200, seed: r });
      values.push(estimate.value);
      if (interval.lower <= truth && truth <= interval.upper) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(0.85 * replicates);
    expect(Math.abs(mean(values) - truth)).toBeLessThan(3 * Math.sqrt(variance(values) / replicates) + 0.01);
  });
});

describe("PDWIS reductions", () => {
  const log = mdpLog(MDP, 300, 9);

  test("on the logging policy itself it is the on-policy mean discounted return, with ESS = episodes", () => {
    const returns = visitorEpisodes(log).flatMap((v) =>
      v.episodes.map((episode) =>
        episode.reduce((sum, stepIndex, t) => sum + GAMMA ** t * log.steps[stepIndex]!.reward, 0),
      ),
    );
    const onPolicy = onPolicyReturn(log, GAMMA);
    expect(onPolicy.value).toBeCloseTo(mean(returns), 10);
    expect(onPolicy.ess).toBeCloseTo(300, 9);
    expect(pdwis(log, tablePolicy("logging", MDP.logging), GAMMA).value).toBeCloseTo(mean(returns), 10);
  });

  test("with γ = 0 it is SNIPS over the episodes' first decisions", () => {
    const target = tablePolicy("stochastic", STOCHASTIC);
    const firstSteps = new Set(visitorEpisodes(log).flatMap((v) => v.episodes.map((e) => e[0]!)));
    const firstOnly: Dataset = { ...log, steps: log.steps.filter((_, i) => firstSteps.has(i)) };
    expect(pdwis(log, target, 0).value).toBeCloseTo(snips(firstOnly, target).value, 10);
  });
});

describe("per-decision weighting on a hand-computed log", () => {
  // Visitor "a": one episode of two steps, then (after a terminal step) a second episode of one.
  // Visitor "b": one episode of one step. Target probabilities per state key: π(0|·) below.
  const state = (key: number): LoggedState => ({
    features: Float32Array.of(key),
    stateKey: key,
    eligible: Uint8Array.of(1, 1),
  });
  const states = [state(0), state(1), state(2), state(3)];
  const step = (
    i: number,
    action: number,
    propensity: number,
    reward: number,
    next: number,
    visitor: string,
  ): Step => ({
    state: i,
    action,
    propensity,
    reward,
    next,
    visitor,
    ts: i,
    decisionId: `d${i}`,
  });
  const steps = [
    step(0, 0, 0.5, 1, 1, "a"),
    step(1, 0, 0.25, 2, -1, "a"),
    step(2, 1, 0.5, 3, -1, "a"),
    step(3, 0, 0.5, 4, -1, "b"),
  ];
  const log: Dataset = {
    actions: ["x", "y"],
    featureSpecHash: "hand",
    featureWidth: 1,
    stateCount: 4,
    slotNames: ["key"],
    states,
    steps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: 4 },
  };
  const probabilityOfX = [0.5, 0.5, 0.25, 1];
  const target = {
    name: "t",
    probabilities: (s: LoggedState) => Float64Array.of(probabilityOfX[s.stateKey]!, 1 - probabilityOfX[s.stateKey]!),
  };

  test("episodes follow `next` links within a visitor", () => {
    expect(visitorEpisodes(log)).toEqual([
      { visitor: "a", episodes: [[0, 1], [2]] },
      { visitor: "b", episodes: [[3]] },
    ]);
  });

  test("each time index is normalised by all weights at t, ended episodes keeping their last weight", () => {
    // Ratios: step0 0.5/0.5 = 1, step1 0.5/0.25 = 2, step2 0.75/0.5 = 1.5, step3 1/0.5 = 2.
    // t = 0: weights 1, 1.5, 2 on rewards 1, 3, 4 → (1 + 4.5 + 8) / 4.5 = 3.
    // t = 1: weights 1·2 = 2 on reward 2, plus padded 1.5 and 2 on reward 0 → 4 / 5.5.
    const gamma = 0.5;
    expect(pdwis(log, target, gamma).value).toBeCloseTo(3 + (gamma * 4) / 5.5, 12);
    expect(pdwis(log, target, gamma).ess).toBeCloseTo((2 + 1.5 + 2) ** 2 / (4 + 2.25 + 4), 12);
  });

  test("a resample counts a visitor's episodes together", () => {
    const estimate = pdwis(log, target, 0.5);
    // Visitor "b" alone: t = 0 only, weight 2 on reward 4.
    expect(estimate.sample.statistic([0, 1])).toBeCloseTo(4, 12);
    // Visitor "a" twice is visitor "a" once: self-normalised.
    expect(estimate.sample.statistic([2, 0])).toBeCloseTo(estimate.sample.statistic([1, 0]), 12);
  });
});
