import { describe, expect, test } from "vitest";
import { evaluatePolicies, gateEstimates, type PolicyComparison } from "../../trainer/ope/compare.ts";
import { publishGate } from "../../trainer/ope/gate.ts";
import { snips } from "../../trainer/ope/one-step.ts";
import { fixedActionTarget } from "../../trainer/ope/target-policy.ts";
import { ACTIONS, BANDIT, banditLog, MDP, mdpLog, tablePolicy, trueRewardModel, type Table } from "./ope-fixtures.ts";

const GREEDY: Table = [
  [0, 1, 0],
  [0, 0, 1],
  [0, 1, 0],
];
const WORST: Table = [
  [1, 0, 0],
  [0, 1, 0],
  [1, 0, 0],
];
const log = banditLog(BANDIT, 3000, 21);
const candidate = tablePolicy("greedy-v2", GREEDY);
const options = {
  candidate,
  gamma: 0,
  level: 0.95,
  seed: 3,
  interval: { method: "bootstrap", replicates: 200 },
} as const;

describe("evaluatePolicies, contextual bandit (γ = 0)", () => {
  const comparison = evaluatePolicies(log, options);
  const byRole = (c: PolicyComparison, role: string) => c.policies.find((p) => p.role === role)!;

  test("compares the candidate, the logging policy, uniform and the best fixed action", () => {
    expect(comparison.policies.map((p) => [p.role, p.name])).toEqual([
      ["candidate", "greedy-v2"],
      ["logging", "logging"],
      ["uniform", "uniform"],
      ["best-fixed", expect.stringMatching(/^always /)],
    ]);
    expect(comparison).toMatchObject({
      decisions: 3000,
      visitors: 3000,
      episodes: 3000,
      actions: [...ACTIONS],
      rewardModel: "fitted",
    });
  });

  test("off-policy targets get IPS, SNIPS and DR, with DR primary; the logging policy its on-policy mean", () => {
    expect(byRole(comparison, "candidate").estimates.map((e) => e.estimator)).toEqual(["ips", "snips", "dr"]);
    expect(byRole(comparison, "candidate").primary.estimator).toBe("dr");
    const logging = byRole(comparison, "logging");
    expect(logging.estimates.map((e) => e.estimator)).toEqual(["on-policy"]);
    expect(logging.primary.value).toBeCloseTo(log.steps.reduce((sum, s) => sum + s.reward, 0) / 3000, 12);
    expect(logging.primary.ess).toBeCloseTo(3000, 9);
  });

  test("every estimate carries an interval around its value at the requested level", () => {
    for (const policy of comparison.policies) {
      for (const estimate of policy.estimates) {
        expect(estimate.level).toBe(0.95);
        expect(estimate.interval).toBe("bootstrap");
        expect(estimate.lower).toBeLessThan(estimate.value);
        expect(estimate.upper).toBeGreaterThan(estimate.value);
      }
    }
  });

  test("the best fixed action is the SNIPS argmax over all actions, flagged as optimistic", () => {
    const values = ACTIONS.map((action, a) => snips(log, fixedActionTarget(a, action)).value);
    const best = byRole(comparison, "best-fixed");
    expect(best.name).toBe(`always ${ACTIONS[values.indexOf(Math.max(...values))]}`);
    expect(best.note).toMatch(/same data.*optimistic/);
  });

  test("action mixes are distributions: the candidate's expected one, the logging policy's observed one", () => {
    for (const policy of comparison.policies) expect(policy.actionMix.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const observed = ACTIONS.map((_, a) => log.steps.filter((s) => s.action === a).length / 3000);
    byRole(comparison, "logging").actionMix.forEach((share, a) => expect(share).toBeCloseTo(observed[a]!, 12));
    // Greedy plays action 1 in contexts 0 and 2, action 2 in context 1.
    const contexts = log.steps.map((s) => log.states[s.state]!.stateKey);
    expect(byRole(comparison, "candidate").actionMix[2]).toBeCloseTo(contexts.filter((x) => x === 1).length / 3000, 9);
  });

  test("is plain data: a JSON round trip changes nothing", () => {
    expect(JSON.parse(JSON.stringify(comparison))).toEqual(comparison);
  });

  test("is repeatable from its seed", () => {
    expect(evaluatePolicies(log, options)).toEqual(comparison);
  });

  test("uses a trained Q as DR's reward model only at γ = 0", () => {
    const qModel = trueRewardModel(BANDIT.meanReward);
    expect(evaluatePolicies(log, { ...options, qModel }).rewardModel).toBe("trained-q");
    expect(
      evaluatePolicies(mdpLog(MDP, 300, 1), {
        ...options,
        candidate: tablePolicy("c", [
          [0, 1],
          [1, 0],
        ]),
        qModel,
        gamma: 0.9,
      }).rewardModel,
    ).toBe("fitted");
  });

  test("empirical Bernstein bounds the estimators with a known term range and bootstraps the rest", () => {
    const bernstein = evaluatePolicies(log, {
      ...options,
      interval: { method: "empirical-bernstein", rewardRange: [0, 1], replicates: 200 },
    });
    const methods = Object.fromEntries(byRole(bernstein, "candidate").estimates.map((e) => [e.estimator, e.interval]));
    expect(methods).toEqual({ ips: "empirical-bernstein", snips: "bootstrap", dr: "bootstrap" });
    expect(byRole(bernstein, "logging").primary.interval).toBe("empirical-bernstein");
    expect(bernstein.intervalMethod).toBe("empirical-bernstein");
  });

  test("feeds the publish gate the paired DR difference: a greedy candidate beats the logging policy, a bad one does not", () => {
    // A log of 3,000 decisions: the gate's minimum ESS is scaled down with it.
    const gate = (c: PolicyComparison) =>
      publishGate(
        { against: c.improvement.against, estimate: c.improvement, ess: c.improvement.ess },
        { force: false, minEss: 500 },
      );
    expect(comparison.improvement.ess).toBeGreaterThan(500);
    expect(comparison.improvement).toMatchObject({ estimator: "dr", against: "logging" });
    const candidateDr = byRole(comparison, "candidate").primary.value;
    expect(comparison.improvement.value).toBeCloseTo(candidateDr - byRole(comparison, "logging").primary.value, 12);
    expect(comparison.improvement.lower).toBeGreaterThan(0);
    expect(gate(comparison).allowed).toBe(true);
    expect(gate(evaluatePolicies(log, { ...options, candidate: tablePolicy("worst", WORST) })).allowed).toBe(false);
  });

  test("the gate compares with the current policy when one is given", () => {
    const withCurrent = evaluatePolicies(log, { ...options, current: tablePolicy("published", WORST) });
    expect(withCurrent.policies.map((p) => p.role)).toEqual([
      "candidate",
      "current",
      "logging",
      "uniform",
      "best-fixed",
    ]);
    expect(gateEstimates(withCurrent).current).toEqual(byRole(withCurrent, "current").primary);
  });
});

describe("evaluatePolicies, episodic (γ > 0)", () => {
  const episodes = mdpLog(MDP, 600, 4);
  const comparison = evaluatePolicies(episodes, {
    ...options,
    candidate: tablePolicy("c", [
      [0, 1],
      [1, 0],
    ]),
    gamma: 0.9,
  });

  test("adds PDWIS, primary for targets, and the on-policy return for the logging policy", () => {
    const [candidatePolicy, logging] = comparison.policies;
    expect(candidatePolicy!.estimates.map((e) => e.estimator)).toEqual(["ips", "snips", "dr", "pdwis"]);
    expect(candidatePolicy!.primary).toMatchObject({ estimator: "pdwis", horizon: "return" });
    expect(logging!.primary).toMatchObject({ estimator: "on-policy-return", horizon: "return" });
    expect(gateEstimates(comparison).current.estimator).toBe("on-policy-return");
  });

  test("counts visitors and their episodes", () => {
    expect(comparison).toMatchObject({ episodes: 600, visitors: 300, decisions: episodes.steps.length });
  });
});
