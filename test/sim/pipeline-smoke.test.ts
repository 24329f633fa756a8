import { beforeAll, describe, expect, test } from "vitest";
import { createDecisionEngine } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC as spec } from "../../shared/features.ts";
import { decodePolicy } from "../../shared/policy/format.ts";
import { selectBackend } from "../../trainer/runtime/backend.ts";
import type { Dataset } from "../../trainer/data/dataset.ts";
import { policyChooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { simulateLogs, trainOnSimulatedLogs, type TrainOnSimulatorOptions } from "../../trainer/sim/pipeline.ts";
import { scorePolicy } from "../../trainer/sim/score.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";

/**
 * The whole path a policy takes on the simulator, end to end and small: simulated visitors under the
 * uniform fallback → D1 rows → buildDataset → trainPolicy (Q-table, a few sweeps; a tiny DQN) →
 * exported bytes → the shared decision engine → scorePolicy. Quality is the bench's business
 * (npm run bench -- --only sim-quality); this only checks that the pieces fit.
 */
const model = DEFAULT_SIM_MODEL;
const catalogue = model.catalogue;
const ids = catalogue.map((p) => p.id);

let dataset: Dataset;
beforeAll(async () => {
  await selectBackend({ force: "wasm" });
  dataset = simulateLogs({ seed: 31, visitors: 300 }).dataset;
});

const learners: [string, TrainOnSimulatorOptions][] = [
  ["qtable", { algorithm: "qtable", gamma: 0.9, qtable: { maxSweeps: 5 } }],
  ["dqn", { algorithm: "dqn", gamma: 0.9, dqn: { epochs: 1, hidden: [8], batchSize: 64 }, backend: "wasm" }],
  [
    "features",
    {
      algorithm: "features",
      gamma: 0.9,
      dqn: { epochs: 1, batchSize: 64 },
      towers: { visitorHidden: [8], promotionHidden: [4], embedding: 4 },
      backend: "wasm",
    },
  ],
];

describe("simulated logs", () => {
  test("become a dataset with the simulator's rewards and visitor trajectories", () => {
    expect(dataset.steps.length).toBeGreaterThan(600);
    expect(dataset.heldBack).toBe(0);
    expect(dataset.skipped).toEqual({});
    expect(dataset.actions).toEqual(ids);
    expect(dataset.featureSpecHash).toBe(spec.hash);
    // Uniform fallback: every logged propensity is 1 / (eligible actions).
    for (const step of dataset.steps.slice(0, 200)) {
      const eligible = dataset.states[step.state]!.eligible.reduce((a, b) => a + b, 0);
      expect(step.propensity).toBeCloseTo(1 / eligible, 12);
    }
    expect(dataset.steps.some((s) => s.next >= 0)).toBe(true);
    expect(dataset.steps.every((s) => Number.isFinite(s.reward))).toBe(true);
  });
});

describe.each(learners)("%s: simulator → logs → trainPolicy → engine → score", (_, options) => {
  test("gives a valid policy that the shared engine runs, decision for decision, and a finite value", () => {
    const trained = trainOnSimulatedLogs(dataset, { ...options, replicates: 100 });
    const { policy, bytes } = trained;

    // What the edge would load from KV: the bytes, decoded with the edge's checks.
    const loaded = decodePolicy(bytes, { featureSpecHash: spec.hash, actions: ids });
    expect(loaded.model.algorithm).toBe(options.algorithm);
    expect(loaded.meta.actions).toEqual(ids);
    expect(loaded.meta.training?.gamma).toBe(options.gamma);
    expect(trained.parity.agreement).toBe(1);

    // Every decision the simulator made with the trained policy is the one the edge's engine makes
    // from the exported bytes: same action, same propensity.
    const run = simulateTraffic({ seed: 77, visitors: 60, policy: policyChooser(policy, catalogue, spec) });
    const engine = createDecisionEngine(loaded, catalogue, spec);
    expect(run.steps.length).toBeGreaterThan(100);
    for (const step of run.steps) {
      const decision = engine.decide(step.context, step.exposures, step.decision.id);
      expect(decision.actionIndex).toBe(step.action);
      expect(decision.propensity).toBeCloseTo(step.decision.propensity, 12);
      expect(step.eligible[step.action]).toBe(1);
    }

    const score = scorePolicy(policyChooser(loaded, catalogue, spec), { seeds: [1, 2], visitors: 150 });
    expect(Number.isFinite(score.value.mean)).toBe(true);
    expect(Number.isFinite(score.value.halfWidth)).toBe(true);
    expect(score.pageViews).toBeGreaterThan(1);
    const shares = Object.values(score.actionShare);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});
