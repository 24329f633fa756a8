import { describe, expect, test } from "vitest";
import { evaluatePolicies, type PolicyComparison } from "../../trainer/ope/compare.ts";
import { firstOrderImprovement } from "../../trainer/ope/first-order.ts";
import { publishGate } from "../../trainer/ope/gate.ts";
import { importanceRatios } from "../../trainer/ope/importance.ts";
import { MDP, mdpLog, mdpValue, tablePolicy, type Table } from "./ope-fixtures.ts";

const GAMMA = 0.9;
const BEST: Table = [
  [0, 1],
  [1, 0],
];
const WORST: Table = [
  [1, 0],
  [0, 1],
];
/** (1 − α)·logging + α·target: a candidate α of the way from the logging policy to `target`. */
const towards = (target: Table, alpha: number): Table =>
  MDP.logging.map((row, s) => row.map((p, a) => (1 - alpha) * p + alpha * target[s]![a]!));
const truth = (table: Table) => mdpValue(MDP, table, GAMMA) - mdpValue(MDP, MDP.logging, GAMMA);
const log = mdpLog(MDP, 20_000, 17);
const ones = new Float64Array(log.steps.length).fill(1);

describe("firstOrderImprovement", () => {
  test("is 0 for the logging policy itself, on every resample", () => {
    const same = firstOrderImprovement(log, ones, ones, GAMMA);
    expect(same.value).toBe(0);
    expect(same.sample.statistic(new Uint32Array(same.sample.unitCount).fill(2))).toBe(0);
  });

  test("matches the exact difference of a small change to first order, in sign and size", () => {
    for (const target of [BEST, WORST]) {
      const table = towards(target, 0.1);
      const estimate = firstOrderImprovement(log, importanceRatios(log, tablePolicy("c", table)), ones, GAMMA);
      expect(Math.sign(estimate.value)).toBe(Math.sign(truth(table)));
      expect(Math.abs(estimate.value - truth(table))).toBeLessThan(0.25 * Math.abs(truth(table)) + 0.01);
    }
  });

  test("is antisymmetric: candidate − current is minus current − candidate", () => {
    const a = importanceRatios(log, tablePolicy("a", towards(BEST, 0.3)));
    const b = importanceRatios(log, tablePolicy("b", towards(WORST, 0.3)));
    expect(firstOrderImprovement(log, a, b, GAMMA).value).toBeCloseTo(
      -firstOrderImprovement(log, b, a, GAMMA).value,
      12,
    );
  });
});

describe("the publish gate on episodic logs whose true values are known", () => {
  const gate = (table: Table) => {
    const c: PolicyComparison = evaluatePolicies(log, {
      candidate: tablePolicy("candidate", table),
      gamma: GAMMA,
      level: 0.95,
      seed: 5,
      interval: { method: "bootstrap", replicates: 200 },
    });
    expect(c.improvement).toMatchObject({ estimator: "first-order", against: "logging" });
    return publishGate(
      { against: c.improvement.against, estimate: c.improvement, ess: c.improvement.ess },
      { force: false },
    );
  };

  test("publishes candidates that are truly better and refuses those that are truly worse", () => {
    for (const alpha of [0.2, 0.5]) {
      expect(truth(towards(BEST, alpha))).toBeGreaterThan(0);
      expect(gate(towards(BEST, alpha)).allowed).toBe(true);
      expect(truth(towards(WORST, alpha))).toBeLessThan(0);
      expect(gate(towards(WORST, alpha)).allowed).toBe(false);
    }
  });

  test("refuses the logging policy itself: no difference is no evidence", () => {
    expect(gate(MDP.logging).allowed).toBe(false);
  });
});
