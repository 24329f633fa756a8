import { describe, expect, test } from "vitest";
import type { IntervalEstimate } from "../../shared/policy/types.ts";
import { publishGate } from "../../trainer/ope/gate.ts";

const estimate = (value: number, lower: number, upper: number, estimator = "dr"): IntervalEstimate => ({
  estimator,
  value,
  lower,
  upper,
  level: 0.95,
});
const current = estimate(0.1, 0.09, 0.11, "on-policy");

describe("publish gate", () => {
  test("allows a candidate whose lower bound beats the current policy's estimate", () => {
    const decision = publishGate(estimate(0.15, 0.12, 0.18), current, { force: false });
    expect(decision.allowed).toBe(true);
    expect(decision.reason).toMatch(/lower bound 0\.12 \(dr\) beats the current policy's estimate 0\.1 \(on-policy\)/);
  });

  test("refuses a candidate whose point estimate is better but whose lower bound is not", () => {
    const decision = publishGate(estimate(0.15, 0.08, 0.22), current, { force: false });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/does not beat/);
    expect(decision.reason).toMatch(/--force/);
  });

  test("refuses a lower bound that only ties", () => {
    expect(publishGate(estimate(0.15, 0.1, 0.2), current, { force: false }).allowed).toBe(false);
  });

  test("force allows a refused candidate and says it was forced and why", () => {
    const decision = publishGate(estimate(0.05, 0.01, 0.09), current, { force: true });
    expect(decision.allowed).toBe(true);
    expect(decision.reason).toMatch(/^forced with --force/);
    expect(decision.reason).toMatch(/does not beat/);
  });

  test("force changes nothing for a candidate that passes on its own", () => {
    expect(publishGate(estimate(0.15, 0.12, 0.18), current, { force: true })).toEqual(
      publishGate(estimate(0.15, 0.12, 0.18), current, { force: false }),
    );
  });

  test("allows a first policy, with no current one to beat", () => {
    const decision = publishGate(estimate(0.15, -0.2, 0.5), null, { force: false });
    expect(decision.allowed).toBe(true);
    expect(decision.reason).toMatch(/no current policy/);
  });

  test("refuses a candidate without a usable lower bound, and a comparison without a usable current estimate", () => {
    expect(publishGate(estimate(Number.NaN, Number.NaN, Number.NaN), current, { force: false }).allowed).toBe(false);
    expect(publishGate(estimate(Number.NaN, Number.NaN, Number.NaN), null, { force: false }).allowed).toBe(false);
    expect(
      publishGate(estimate(0.15, 0.12, 0.18), estimate(Number.NaN, Number.NaN, Number.NaN), { force: false }).allowed,
    ).toBe(false);
  });
});
