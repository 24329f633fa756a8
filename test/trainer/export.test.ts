import type * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodePolicy } from "../../shared/policy/format.ts";
import { selectBackend } from "../../trainer/runtime/backend.ts";
import { dqnToPolicy, trainDqn } from "../../trainer/learn/dqn/index.ts";
import {
  checkParity,
  exportPolicy,
  ParityError,
  qtableReference,
  tfjsReference,
  type ReferenceQ,
} from "../../trainer/learn/export-policy.ts";
import { policyMeta } from "../../trainer/learn/policy-meta.ts";
import { learnQTable, qtableToPolicy } from "../../trainer/learn/qlearning.ts";
import { datasetOf, syntheticBandit } from "./helpers/datasets.ts";

// Non-paying actions pay distinct amounts, so that no state's greedy choice hangs on a near-tie.
const dataset = syntheticBandit({
  contexts: 6,
  actions: 4,
  steps: 2000,
  noiseWidth: 4,
  rewardNoise: 0.3,
  ineligibleRate: 0.25,
  spread: 0.4,
  seed: 21,
});
const meta = policyMeta(dataset, { version: "v-export", createdAt: new Date(0) });

describe("DQN export", () => {
  let network: tf.Sequential;
  beforeAll(async () => {
    await selectBackend({ force: "wasm" });
    network = trainDqn(dataset, {
      hidden: [32, 32],
      gamma: 0,
      epochs: 5,
      batchSize: 64,
      learningRate: 0.01,
      seed: 2,
    }).network;
  });
  afterAll(() => network.dispose());

  test("float32 bytes decode to the trained weights and match tfjs predict on every sampled state", () => {
    const policy = dqnToPolicy(network, meta);
    const bytes = exportPolicy(policy, "float32");
    expect(decodePolicy(bytes).model).toEqual(policy.model);
    const report = checkParity(bytes, tfjsReference(network), dataset.states, { sampleSize: 500 });
    expect(report).toMatchObject({ states: 500, agreement: 1, required: 0.995 });
    expect(report.maxAbsDiff).toBeLessThan(1e-4);
  });

  test("int8 bytes drift within quantisation error but keep the greedy choices", () => {
    const bytes = exportPolicy(dqnToPolicy(network, meta), "int8");
    const report = checkParity(bytes, tfjsReference(network), dataset.states, { sampleSize: 500 });
    expect(report.agreement).toBeGreaterThanOrEqual(0.995);
    expect(report.maxAbsDiff).toBeGreaterThan(1e-4);
    expect(report.maxAbsDiff).toBeLessThan(0.1);
  });

  test("a model that decides differently fails with the report attached", () => {
    const bytes = exportPolicy(dqnToPolicy(network, meta), "float32");
    // Negated Q-values: the reference's greedy action is the exported policy's worst eligible one.
    const contrary: ReferenceQ = (states) => tfjsReference(network)(states).map((v) => -v);
    let failure: unknown;
    try {
      checkParity(bytes, contrary, dataset.states, { sampleSize: 200 });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ParityError);
    const report = (failure as ParityError).report;
    expect(report.states).toBe(200);
    expect(report.agreement).toBeLessThan(0.5);
    expect((failure as ParityError).message).toMatch(/fails parity: .* of 200 logged states \(needs 99\.50%\)/);
  });

  test("a non-finite Q-value fails even when the choices agree", () => {
    const bytes = exportPolicy(dqnToPolicy(network, meta), "float32");
    const withNaN: ReferenceQ = (states) => {
      const q = tfjsReference(network)(states);
      q[1] = Number.NaN;
      return q;
    };
    expect(() => checkParity(bytes, withNaN, dataset.states, { sampleSize: 200, required: 0 })).toThrow(ParityError);
  });
});

describe("Q-table export", () => {
  test("float32 tables decode to exactly the trained one", () => {
    const result = learnQTable(dataset, { gamma: 0 });
    const report = checkParity(
      exportPolicy(qtableToPolicy(result, meta), "float32"),
      qtableReference(result.q, 4),
      dataset.states,
    );
    expect(report).toEqual({ states: 2000, maxAbsDiff: 0, agreement: 1, required: 0.995 });
  });

  test("int8 tables drift by at most half a quantisation step and pass where the choices are clear", () => {
    // Every action always eligible: the greedy action pays 1, the rest about 0, far apart in int8 steps.
    const clear = syntheticBandit({
      contexts: 6,
      actions: 4,
      steps: 2000,
      noiseWidth: 0,
      rewardNoise: 0.3,
      ineligibleRate: 0,
      seed: 22,
    });
    const result = learnQTable(clear, { gamma: 0 });
    const report = checkParity(
      exportPolicy(qtableToPolicy(result, meta), "int8"),
      qtableReference(result.q, 4),
      clear.states,
    );
    const maxAbsQ = result.q.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(report.maxAbsDiff).toBeGreaterThan(0);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(maxAbsQ / 127 / 2 + 1e-6);
    expect(report.agreement).toBe(1);
  });

  test("int8 is refused where rounding merges a near-tie and so changes the choice", () => {
    // The table's largest value, 1.27, sets the int8 step to 0.01; 0.003 and 0.004 both round to 0,
    // and the tie then goes to the lower index: state 0's greedy action changes from 1 to 0.
    const nearTie = datasetOf(
      ["a0", "a1", "a2"],
      2,
      [
        { key: 0, eligible: [1, 1, 1] },
        { key: 1, eligible: [1, 1, 1] },
      ],
      [
        { state: 0, action: 0, reward: 0.003 },
        { state: 0, action: 1, reward: 0.004 },
        { state: 1, action: 2, reward: 1.27 },
      ],
    );
    const result = learnQTable(nearTie, { gamma: 0 });
    const policy = qtableToPolicy(result, policyMeta(nearTie, { version: "v" }));
    const reference = qtableReference(result.q, 3);
    expect(checkParity(exportPolicy(policy, "float32"), reference, nearTie.states).agreement).toBe(1);
    expect(() => checkParity(exportPolicy(policy, "int8"), reference, nearTie.states)).toThrow(
      /in 50\.00% of 2 logged states/,
    );
  });

  test("samples the requested number of states, reproducibly from the seed", () => {
    const result = learnQTable(dataset, { gamma: 0 });
    const bytes = exportPolicy(qtableToPolicy(result, meta), "float32");
    const seen: number[][] = [];
    const recording: ReferenceQ = (states) => {
      seen.push(states.map((s) => dataset.states.indexOf(s)));
      return qtableReference(result.q, result.actionCount)(states);
    };
    checkParity(bytes, recording, dataset.states, { sampleSize: 50, seed: 7 });
    checkParity(bytes, recording, dataset.states, { sampleSize: 50, seed: 7 });
    expect(seen[0]).toHaveLength(50);
    expect(new Set(seen[0]).size).toBe(50);
    expect(seen[1]).toEqual(seen[0]);
  });

  test("refuses to check against no states", () => {
    const result = learnQTable(dataset, { gamma: 0 });
    const bytes = exportPolicy(qtableToPolicy(result, meta), "float32");
    expect(() => checkParity(bytes, qtableReference(result.q, 4), [])).toThrow(RangeError);
  });
});
