import { describe, expect, test } from "vitest";
import { eligibleMask } from "../../shared/catalogue.ts";
import { contextSchema } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC as spec, encodeFeatures, stateKey } from "../../shared/features.ts";
import type { Policy } from "../../shared/policy/types.ts";
import { rewardOf } from "../../shared/reward.ts";
import { policyChooser, uniformChooser, type Chooser } from "../../trainer/sim/chooser.ts";
import { logRowsOf } from "../../trainer/sim/write-exports.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { MAX_OUTCOME_DELAY_MS, simulateTraffic } from "../../trainer/sim/simulate.ts";

const model = DEFAULT_SIM_MODEL;
const catalogue = model.catalogue;
const ids = catalogue.map((p) => p.id);

/** A Q-table policy that prefers "bundle" everywhere, explored ε-greedily: non-uniform propensities. */
function epsilonGreedyPolicy(): Policy {
  const q = new Float32Array(spec.stateCount * catalogue.length);
  for (let s = 0; s < spec.stateCount; s++) q[s * catalogue.length + ids.indexOf("bundle")] = 1;
  return {
    meta: {
      version: "test-egreedy",
      featureSpecHash: spec.hash,
      actions: ids,
      exploration: { type: "epsilon", epsilon: 0.3, floor: 0.01 },
      createdAt: "2025-01-01T00:00:00Z",
      training: null,
    },
    model: { algorithm: "qtable", stateCount: spec.stateCount, q },
  };
}

const choosers: [string, () => Chooser][] = [
  ["uniform fallback", () => uniformChooser(catalogue, spec)],
  ["ε-greedy Q-table", () => policyChooser(epsilonGreedyPolicy(), catalogue, spec)],
];

describe("logged rows", () => {
  test.each(choosers)("conform to the D1 rows the edge writes (%s)", (_, make) => {
    const chooser = make();
    const run = simulateTraffic({ seed: 5, visitors: 300, policy: chooser });
    const decisionIds = new Set<string>();
    for (const step of run.steps) {
      const row = step.decision;
      expect(decisionIds.has(row.id)).toBe(false);
      decisionIds.add(row.id);
      const context = contextSchema.parse(JSON.parse(row.context));
      expect(context).toEqual(step.context);
      expect(row.featureSpecHash).toBe(spec.hash);
      expect(JSON.parse(row.features)).toEqual(Array.from(encodeFeatures(spec, context)));
      expect(row.stateKey).toBe(stateKey(spec, context));

      const mask = eligibleMask(catalogue, context, step.exposures);
      const eligible = JSON.parse(row.eligible) as string[];
      expect(eligible).toEqual(ids.filter((_, i) => mask[i]));
      expect(eligible).toContain(row.action);
      // The logged propensity is the chooser's probability of the logged action, under the mask.
      const p = chooser.probabilities({
        decisionId: row.id,
        context,
        exposures: step.exposures,
        eligible: mask,
        latent: step.latent,
      });
      expect(row.propensity).toBeCloseTo(p[ids.indexOf(row.action)]!, 12);
      for (let i = 0; i < ids.length; i++) if (!mask[i]) expect(p[i]).toBe(0);

      // Outcomes: the trainer's reward from the rows is the simulator's reward.
      for (const outcome of step.outcomes) {
        expect(outcome.decisionId).toBe(row.id);
        expect(outcome.ts - row.ts).toBeGreaterThan(0);
        expect(outcome.ts - row.ts).toBeLessThanOrEqual(MAX_OUTCOME_DELAY_MS);
      }
      const fromRows = rewardOf(
        step.outcomes.map((o) => ({ kind: o.kind, value: o.value ?? 0 })),
        ids.indexOf(row.action),
        catalogue,
        model.reward,
      );
      expect(fromRows).toBeCloseTo(step.reward, 12);
    }
  });

  test("exposure caps hold: no visitor sees 20% off more than 3 times in 7 days", () => {
    const run = simulateTraffic({ seed: 6, visitors: 300, policy: uniformChooser(catalogue, spec) });
    for (const step of run.steps) expect(step.exposures.pct20 ?? 0).toBeLessThanOrEqual(3);
    expect(run.steps.some((s) => s.decision.action === "pct20")).toBe(true);
  });

  test("trajectories chain each visitor's page views in time order", () => {
    const run = simulateTraffic({ seed: 9, visitors: 200, policy: uniformChooser(catalogue, spec) });
    const rows = logRowsOf(run);
    rows.forEach((row, i) => {
      const step = run.steps[i]!;
      if (!row.next) return expect(step.next).toBe(-1);
      const next = run.steps[step.next]!;
      expect(next.visitor).toBe(step.visitor);
      expect(next.decision.ts).toBeGreaterThan(step.decision.ts);
      expect(row.next.context).toEqual(next.context);
      expect(next.context.visits).toBeGreaterThanOrEqual(step.context.visits);
    });
    const visitors = new Set(rows.map((r) => r.visitor));
    expect(visitors.size).toBe(200);
  });
});
