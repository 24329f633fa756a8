import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { actionProbabilities } from "../../shared/policy/explore.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Policy } from "../../shared/policy/types.ts";
import type { Dataset } from "../../trainer/data/dataset.ts";
import { DEFAULT_EXPLORATION } from "../../trainer/learn/policy-meta.ts";
import { trainPolicy, type TrainPolicyOptions } from "../../trainer/learn/train-policy.ts";
import { ACTIONS, BUNDLE, KEYS, uniformLogs } from "./helpers/state-key-logs.ts";

const OPTIONS: TrainPolicyOptions = {
  algorithm: "safe",
  gamma: 0.95,
  seed: 1,
  version: "test-safe",
  now: new Date(0),
  exploration: DEFAULT_EXPLORATION,
  precision: "float32",
  level: 0.95,
  interval: { method: "bootstrap", replicates: 200 },
  current: null,
  control: DEFAULT_CONTROL,
  catalogue: DEFAULT_CATALOGUE,
  backend: "typescript",
  qtable: {},
  dqn: {},
  safe: { explore: "most-promising" },
  log: () => {},
};

/** Bundle pays 4 at key A and nothing else matters: the safe learner switches A to bundle. */
const bundleAtA = (seed: number): Dataset =>
  uniformLogs(7000, (key, a) => (key === KEYS.A && a === BUNDLE ? 4 : 0), 1, seed);

function greedyAt(policy: Policy, key: number): number {
  const q = compileInference(policy.model);
  const p = actionProbabilities(
    q(new Float32Array(0), key),
    new Uint8Array(ACTIONS.length).fill(1),
    policy.meta.exploration,
  );
  return p.indexOf(Math.max(...p));
}

describe("trainPolicy: the safe learner's candidates as a fixed sequence", () => {
  test("judges the served choices with the learned exploration first, then the learned choices, and returns the last let through", () => {
    const trained = trainPolicy({ train: bundleAtA(1), evaluation: bundleAtA(2) }, OPTIONS);
    expect(trained.sequence.map((s) => s.decision.allowed)).toEqual([true, true]);
    expect(trained.sequence[0]!.candidate).toMatch(/served choices/);
    expect(greedyAt(trained.policy, KEYS.A)).toBe(BUNDLE);
    expect(trained.policy.meta.training!.improvement!.estimate.lower).toBeGreaterThan(0);
  });

  test("stops at the first step the gate refuses, and returns that step: the bolder candidate is not judged", () => {
    // Held-out logs where nothing pays: the first step cannot be shown better.
    const trained = trainPolicy({ train: bundleAtA(1), evaluation: uniformLogs(7000, () => 0, 1, 3) }, OPTIONS);
    expect(trained.sequence).toHaveLength(1);
    expect(trained.sequence[0]!.decision.allowed).toBe(false);
    expect(greedyAt(trained.policy, KEYS.A)).toBe(0);
    expect(trained.policy.meta.training!.improvement!.estimate.lower).toBeLessThanOrEqual(0);
  });

  test("judges a single candidate when the learner changes no choice", () => {
    const flat = (seed: number) => uniformLogs(7000, () => 0, 1, seed);
    const trained = trainPolicy({ train: flat(1), evaluation: flat(2) }, OPTIONS);
    expect(trained.sequence).toHaveLength(1);
    expect(trained.sequence[0]!.candidate).toMatch(/learned choices \(0 new\)/);
  });
});
