import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import {
  alwaysValidInterval,
  mixtureLikelihoodRatio,
  ratioOf,
  sampleRatioCheck,
  type VisitorTotals,
} from "../../shared/experiment-stats.ts";
import {
  DEFAULT_MONITOR_RULE,
  judgeExperiment,
  visitorTotalsByArm,
  type ExperimentLogRow,
} from "../../shared/experiment-verdict.ts";
import { assignArm, type Experiment } from "../../shared/experiment.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { createRng } from "../../shared/rng.ts";

/** `n` visitors whose value is a conversion worth `orderValue` with probability `p`, at 3 decisions each. */
function visitors(n: number, p: number, seed: number, orderValue = 50, cost = 0): VisitorTotals[] {
  const u = createRng(seed);
  return Array.from({ length: n }, () => {
    const converted = u() < p ? 1 : 0;
    return {
      decisions: 3,
      clicks: converted,
      conversions: converted,
      revenue: converted * orderValue,
      promotionCost: converted * cost,
      margin: converted * 0.4 * orderValue,
      value: converted * (0.4 * orderValue - cost),
    };
  });
}

const canary: Experiment = {
  id: "canary-1",
  startedAt: "2026-11-01T00:00:00.000Z",
  arms: [
    { name: "control", serves: { type: "control" }, weight: 1 },
    { name: "candidate", serves: { type: "policy", version: "cand", sha256: "a".repeat(64) }, weight: 1 },
  ],
};

describe("experiment statistics", () => {
  test("a ratio with equal denominators is the mean of the per-visitor ratios, with the same standard error", () => {
    const num = [1, 0, 2, 1, 0, 3];
    const den = [2, 2, 2, 2, 2, 2];
    const r = ratioOf(num, den);
    const perVisitor = num.map((x) => x / 2);
    const mean = perVisitor.reduce((a, b) => a + b) / perVisitor.length;
    const sd = Math.sqrt(perVisitor.reduce((a, b) => a + (b - mean) ** 2, 0) / (perVisitor.length - 1));
    expect(r.mean).toBeCloseTo(mean, 12);
    expect(r.se).toBeCloseTo(sd / Math.sqrt(perVisitor.length), 12);
  });

  test("the mSPRT crosses 1/α exactly where its always-valid interval leaves out 0", () => {
    const u = createRng(7);
    for (let i = 0; i < 500; i++) {
      const d = { mean: (u() - 0.5) * 4, se: 0.2 + u() };
      const tau = 0.1 + u();
      const crossed = mixtureLikelihoodRatio(d, tau) >= 1 / 0.05;
      const interval = alwaysValidInterval(d, tau, 0.05);
      expect(crossed).toBe(interval.lo > 0 || interval.hi < 0);
    }
  });

  test("the always-valid interval is wider than the fixed-horizon one, as the price of looking often", () => {
    const d = { mean: 0.3, se: 0.1 };
    const interval = alwaysValidInterval(d, 0.1, 0.05);
    expect(interval.hi - interval.lo).toBeGreaterThan(2 * 1.96 * d.se);
  });

  test("the sample-ratio check passes counts that match the weights and flags ones that do not", () => {
    expect(sampleRatioCheck([5_020, 4_980], [1, 1]).mismatch).toBe(false);
    expect(sampleRatioCheck([5_200, 4_800], [1, 1])).toMatchObject({
      chiSquare: 16,
      degreesOfFreedom: 1,
      mismatch: true,
    });
    expect(sampleRatioCheck([2_510, 2_490, 5_000], [1, 1, 2]).mismatch).toBe(false);
  });

  test("arms are assigned in proportion to their weights (χ² over 20,000 visitor hashes)", () => {
    const u = createRng(11);
    const counts = [0, 0];
    const weighted: Experiment = { ...canary, arms: [canary.arms[0]!, { ...canary.arms[1]!, weight: 3 }] };
    for (let i = 0; i < 20_000; i++) {
      const hash = Array.from({ length: 8 }, () =>
        Math.floor(u() * 2 ** 32)
          .toString(16)
          .padStart(8, "0"),
      ).join("");
      counts[assignArm(weighted, hash).name === "control" ? 0 : 1]!++;
    }
    expect(sampleRatioCheck(counts, [1, 3]).mismatch).toBe(false);
  });
});

describe("the monitor's decision rule", () => {
  const judge = (control: VisitorTotals[], candidate: VisitorTotals[], rule = DEFAULT_MONITOR_RULE) =>
    judgeExperiment(
      canary,
      new Map([
        ["control", control],
        ["candidate", candidate],
      ]),
      rule,
    );

  test("waits for enough visitors in every arm", () => {
    expect(judge(visitors(150, 0.1, 1), visitors(3_000, 0.1, 2)).verdict).toMatchObject({ action: "continue" });
  });

  test("rolls back a candidate that loses value per visitor with confidence", () => {
    // Same conversions, a dearer promotion on each: within the cost guardrail, but value lost.
    const report = judge(visitors(10_000, 0.1, 1, 50, 0), visitors(10_000, 0.1, 1, 50, 4));
    expect(report.verdict.action).toBe("rollback");
    expect(report.verdict.reason).toMatch(/candidate loses value per visitor with confidence/);
    expect(report.comparisons[0]!.pValue).toBeLessThan(0.05);
  });

  test("rolls back a candidate that spends past the promotion-cost guardrail, even while it earns more", () => {
    const report = judge(visitors(4_000, 0.1, 1, 50, 0), visitors(4_000, 0.3, 2, 50, 12));
    expect(report.verdict).toMatchObject({
      action: "rollback",
      reason: expect.stringMatching(/promotion-cost guardrail/),
    });
  });

  test("continues while nothing is known, and names a confident winner (promoting it only when told to)", () => {
    expect(judge(visitors(1_000, 0.1, 1), visitors(1_000, 0.1, 2)).verdict.action).toBe("continue");
    const better = [visitors(4_000, 0.1, 1), visitors(4_000, 0.16, 2)] as const;
    expect(judge(...better).verdict).toMatchObject({ action: "winner", arm: "candidate" });
    expect(judge(...better, { ...DEFAULT_MONITOR_RULE, autoPromote: true }).verdict).toMatchObject({
      action: "promote",
      arm: "candidate",
    });
  });

  test("stops on a sample-ratio mismatch before reading any figure", () => {
    const report = judge(visitors(4_000, 0.1, 1), visitors(3_500, 0.2, 2));
    expect(report.verdict).toMatchObject({
      action: "rollback",
      reason: expect.stringMatching(/sample ratio mismatch/),
    });
  });
});

test("visitor totals come from the experiment's rows: decisions counted once, outcomes by kind, value by the reward", () => {
  const rows: ExperimentLogRow[] = [
    { decisionId: "d1", visitorHash: "v1", arm: "candidate", action: "pct10", kind: "click", value: 0 },
    { decisionId: "d1", visitorHash: "v1", arm: "candidate", action: "pct10", kind: "conversion", value: 100 },
    { decisionId: "d2", visitorHash: "v1", arm: "candidate", action: "none", kind: null, value: null },
    { decisionId: "d3", visitorHash: "v2", arm: "control", action: "none", kind: "conversion", value: 40 },
  ];
  const totals = visitorTotalsByArm(rows, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC);
  expect(totals.get("candidate")).toEqual([
    {
      decisions: 2,
      clicks: 1,
      conversions: 1,
      revenue: 100,
      promotionCost: 10,
      margin: 40,
      value: expect.closeTo(DEFAULT_REWARD_SPEC.clickValue + 40 - 10, 12),
    },
  ]);
  expect(totals.get("control")).toEqual([
    { decisions: 1, clicks: 0, conversions: 1, revenue: 40, promotionCost: 0, margin: 16, value: 16 },
  ]);
});
