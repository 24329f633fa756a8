import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import type { Experiment } from "../../shared/experiment.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { encodeShadow } from "../../shared/shadow.ts";
import { shadowEstimate } from "../../trainer/experiment/shadow-estimate.ts";
import { decisionRow } from "./support/log-rows.ts";

const ACTIONS = DEFAULT_CATALOGUE.map((p) => p.id);
const experiment: Experiment = {
  id: "shadow-run",
  startedAt: "2026-11-01T00:00:00.000Z",
  shadow: { version: "s1", sha256: "a".repeat(64) },
  arms: [{ name: "current", serves: { type: "control" }, weight: 1 }],
};

/** Logs of a uniform logger over none and pct10: a conversion of 100 follows every pct10 and never none. */
function logs(shadowOf: (action: string) => number[]): { decisions: DecisionRow[]; outcomes: OutcomeRow[] } {
  const decisions: DecisionRow[] = [];
  const outcomes: OutcomeRow[] = [];
  for (let i = 0; i < 400; i++) {
    const action = i % 2 === 0 ? "none" : "pct10";
    const id = `d${i}`;
    decisions.push({
      ...decisionRow({ id, ts: Date.parse("2026-11-02T00:00:00Z") + i, action, propensity: 0.5 }),
      visitorHash: `v${i % 40}`,
      experimentId: "shadow-run",
      arm: "current",
      shadow: encodeShadow({ version: "s1", probabilities: Float64Array.from(shadowOf(action)) }),
    });
    if (action === "pct10") outcomes.push({ decisionId: id, ts: 1, kind: "conversion", value: 100, eventKey: id });
  }
  return { decisions, outcomes };
}

const onlyPct10 = ACTIONS.map((a) => (a === "pct10" ? 1 : 0));
const halfHalf = ACTIONS.map((a) => (a === "pct10" || a === "none" ? 0.5 : 0));

describe("the shadow's off-policy estimate", () => {
  test("a shadow that always shows pct10 is worth pct10's reward, 40 − 10, and agrees with half the decisions", () => {
    const { decisions, outcomes } = logs(() => onlyPct10);
    const estimate = shadowEstimate(experiment, decisions, outcomes, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC)!;
    expect(estimate.shadowPerDecision.mean).toBeCloseTo(0.4 * 100 - 10, 9);
    expect(estimate.servedPerDecision).toBeCloseTo((0.4 * 100 - 10) / 2, 9);
    expect(estimate.agreement).toEqual({ probability: 0.5, top: 0.5 });
    expect(estimate).toMatchObject({ decisions: 400, visitors: 40, ess: 200 });
  });

  test("a shadow equal to the logger is worth what was served, with weights of 1", () => {
    const { decisions, outcomes } = logs(() => halfHalf);
    const estimate = shadowEstimate(experiment, decisions, outcomes, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC)!;
    expect(estimate.shadowPerDecision.mean).toBeCloseTo(estimate.servedPerDecision, 12);
    expect(estimate.ess).toBeCloseTo(400, 9);
    expect(estimate.shadowPerDecision.lo).toBeLessThan(estimate.shadowPerDecision.mean);
  });

  test("rows of another shadow version, another experiment, or without a shadow are left out", () => {
    const { decisions, outcomes } = logs(() => halfHalf);
    const other = decisions.map((d, i) => (i % 2 === 0 ? { ...d, shadow: null } : { ...d, experimentId: "else" }));
    expect(shadowEstimate(experiment, other, outcomes, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC)).toBeNull();
  });
});
