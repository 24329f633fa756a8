import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { fixedChooser, uniformChooser, type Chooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { myopicOracleChooser, oracleChooser, solveLatentMdp } from "../../trainer/sim/oracle.ts";
import { pairedDifference, scorePolicy, type PolicyScore } from "../../trainer/sim/score.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";

const model = DEFAULT_SIM_MODEL;
const catalogue = model.catalogue;
const scoring = { seeds: [1, 2, 3, 4, 5, 6], visitors: 2500 };

describe("value iteration", () => {
  test("the plan's value bounds every other rule's, exactly", () => {
    const plan = solveLatentMdp();
    const rules = [{ kind: "myopic" } as const, ...catalogue.map((_, action) => ({ kind: "fixed", action }) as const)];
    for (const rule of rules)
      expect(solveLatentMdp({ rule }).valuePerVisitor).toBeLessThanOrEqual(plan.valuePerVisitor + 1e-9);
  });

  test("its analytic value of a policy is what the simulator realises (the dynamics agree)", () => {
    // "none" never meets an exposure cap, so the relaxed solution is exact for it.
    const analytic = solveLatentMdp({ rule: { kind: "fixed", action: 0 } }).valuePerVisitor;
    const values = [11, 12, 13, 14]
      .flatMap(
        (seed) =>
          simulateTraffic({
            seed,
            visitors: 10_000,
            policy: fixedChooser("none", catalogue),
            record: false,
            maxSteps: 1000,
          }).visitors,
      )
      .map((v) => v.discountedValue);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    expect(Math.abs(mean - analytic)).toBeLessThan(4 * (sd / Math.sqrt(values.length)));
  });
});

describe("oracle", () => {
  let oracle: PolicyScore;
  beforeAll(() => {
    oracle = scorePolicy(oracleChooser(), scoring);
  });

  const others: [string, () => Chooser][] = [
    ["uniform", () => uniformChooser(catalogue, DEFAULT_COMPILED_SPEC)],
    ["myopic oracle", () => myopicOracleChooser(model)],
    ...catalogue.map((p): [string, () => Chooser] => [`always ${p.id}`, () => fixedChooser(p.id, catalogue)]),
  ];

  test.each(others)("is worth at least as much as %s", (_, make) => {
    const difference = pairedDifference(oracle, scorePolicy(make(), scoring));
    expect(difference.upper).toBeGreaterThan(0);
    expect(difference.mean).toBeGreaterThan(0);
  });

  test("planning beats the myopic oracle by a clear margin: γ matters", () => {
    // Same information (the latent state), same exact rewards; the only difference is foresight.
    const myopic = scorePolicy(myopicOracleChooser(model), scoring);
    const difference = pairedDifference(oracle, myopic);
    expect(difference.lower).toBeGreaterThan(0.08 * oracle.value.mean);
    const plan = solveLatentMdp().valuePerVisitor;
    expect(solveLatentMdp({ rule: { kind: "myopic" } }).valuePerVisitor).toBeLessThan(0.9 * plan);
    // What the myopic policy loses is what its promotions condition and annoy away.
    expect(myopic.promotionCost).toBeGreaterThan(oracle.promotionCost);
  });
});
