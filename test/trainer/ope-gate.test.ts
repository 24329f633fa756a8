import { describe, expect, test } from "vitest";
import type { IntervalEstimate, Policy } from "../../shared/policy/types.ts";
import { gatePublication, MIN_GATE_ESS, publishGate, type ImprovementEvidence } from "../../trainer/ope/gate.ts";

const difference = (value: number, lower: number, upper: number): IntervalEstimate => ({
  estimator: "first-order",
  value,
  lower,
  upper,
  level: 0.95,
});
const evidence = (value: number, lower: number, upper: number, ess = 5000): ImprovementEvidence => ({
  against: "fallback",
  estimate: difference(value, lower, upper),
  ess,
});

describe("publish gate, on the paired difference candidate − current", () => {
  test("allows a candidate whose whole interval of the difference is above 0", () => {
    const decision = publishGate(evidence(0.3, 0.05, 0.55), { force: false });
    expect(decision.allowed).toBe(true);
    expect(decision.reason).toMatch(
      /candidate − fallback = 0\.3 \[0\.05, 0\.55\] \(first-order, 95%, paired, ESS 5000\)/,
    );
  });

  test("refuses a better point estimate whose interval reaches 0, and one that only ties", () => {
    expect(publishGate(evidence(0.3, -0.05, 0.65), { force: false })).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/not shown to be better.*--force/),
    });
    expect(publishGate(evidence(0.3, 0, 0.6), { force: false }).allowed).toBe(false);
  });

  test("refuses a difference resting on fewer effective episodes than the minimum, however good it looks", () => {
    const decision = publishGate(evidence(2, 1, 3, MIN_GATE_ESS - 1), { force: false });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toMatch(/ESS below/);
    expect(publishGate(evidence(2, 1, 3, 50), { force: false, minEss: 10 }).allowed).toBe(true);
  });

  test("refuses a difference without a usable interval", () => {
    expect(publishGate(evidence(Number.NaN, Number.NaN, Number.NaN), { force: false }).allowed).toBe(false);
  });

  test("force allows a refused candidate and says it was forced and why; it changes nothing for one that passes", () => {
    const forced = publishGate(evidence(-0.2, -0.4, 0), { force: true });
    expect(forced.allowed).toBe(true);
    expect(forced.reason).toMatch(/^forced with --force, overriding: .*not shown to be better/);
    expect(publishGate(evidence(0.3, 0.05, 0.55), { force: true })).toEqual(
      publishGate(evidence(0.3, 0.05, 0.55), { force: false }),
    );
  });
});

describe("gatePublication: the evidence must be against what is served now", () => {
  const policy = (improvement: ImprovementEvidence | null): Policy => ({
    meta: {
      version: "v2",
      featureSpecHash: "h",
      actions: ["none"],
      exploration: { type: "epsilon", epsilon: 0.05, floor: 0 },
      createdAt: "2026-01-01T00:00:00Z",
      training: {
        dataFrom: "2026-01-01T00:00:00Z",
        dataTo: "2026-01-02T00:00:00Z",
        decisions: 10,
        transitions: 5,
        gamma: 0.95,
        backend: "typescript",
        estimate: null,
        improvement,
      },
    },
    model: { algorithm: "qtable", stateCount: 1, q: new Float32Array(1) },
  });

  test("decides on the recorded difference when it was measured against the served policy", () => {
    expect(gatePublication(policy(evidence(0.3, 0.05, 0.55)), null, false).allowed).toBe(true);
    expect(gatePublication(policy({ ...evidence(0.3, 0.05, 0.55), against: "v1" }), "v1", false).allowed).toBe(true);
  });

  test("refuses evidence against another policy than the one served, and a policy with no evidence", () => {
    const stale = gatePublication(policy(evidence(0.3, 0.05, 0.55)), "v1", false);
    expect(stale.allowed).toBe(false);
    expect(stale.reason).toMatch(/compared with fallback, but v1 is current now/);
    expect(gatePublication(policy(null), null, false)).toMatchObject({ allowed: false });
    expect(gatePublication(policy(null), null, true)).toMatchObject({
      allowed: true,
      reason: expect.stringMatching(/^forced/),
    });
  });
});
