import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { greedyAction } from "../../shared/policy/explore.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import { selectBackend, type BackendChoice } from "../../trainer/runtime/backend.ts";
import { buildQNetwork, dqnToPolicy, trainDqn, type DqnOptions } from "../../trainer/learn/dqn/index.ts";
import { doubleDqnTargets, lossTerms } from "../../trainer/learn/dqn/loss.ts";
import { gatherBatch } from "../../trainer/learn/dqn/replay.ts";
import { policyMeta } from "../../trainer/learn/policy-meta.ts";
import { createRng } from "../../shared/rng.ts";
import { measureDqnThroughput } from "../../trainer/learn/throughput.ts";
import { transitionColumns } from "../../trainer/data/transitions.ts";
import { bestAction, datasetOf, syntheticBandit, type StepSpec } from "./helpers/datasets.ts";

const useBackend = (choice: BackendChoice) => selectBackend({ force: choice });

const bandit = syntheticBandit({
  contexts: 6,
  actions: 4,
  steps: 3000,
  noiseWidth: 4,
  rewardNoise: 0.5,
  ineligibleRate: 0.25,
  seed: 11,
});
const banditOptions: Partial<DqnOptions> = {
  hidden: [32, 32],
  gamma: 0,
  epochs: 6,
  batchSize: 64,
  learningRate: 0.01,
  seed: 5,
};

function predict(network: tf.LayersModel, rows: number[][]): number[][] {
  return tf.tidy(() => (network.predict(tf.tensor2d(rows)) as tf.Tensor2D).arraySync());
}

function weightsOf(network: tf.LayersModel): Float32Array[] {
  return network.getWeights().map((w) => new Float32Array(w.dataSync()));
}

describe("trainDqn on a contextual bandit (γ = 0)", () => {
  beforeAll(() => useBackend("wasm"));

  test("learns the best eligible action of every context", () => {
    const result = trainDqn(bandit, banditOptions);
    const q = predict(
      result.network,
      bandit.states.map((s) => Array.from(s.features)),
    );
    const judged = bandit.states.flatMap((state, i) => {
      const best = bestAction(state.stateKey, 4);
      return state.eligible[best] ? [greedyAction(q[i]!, state.eligible) === best] : [];
    });
    expect(judged.length).toBeGreaterThan(1500);
    expect(judged.filter(Boolean).length / judged.length).toBeGreaterThan(0.98);
    expect(result.backend).toBe("wasm");
    result.network.dispose();
  });

  test("reports every epoch and leaks no tensors", () => {
    const before = tf.memory().numTensors;
    const epochs: number[] = [];
    const result = trainDqn(bandit, { ...banditOptions, epochs: 3, onEpoch: (s) => epochs.push(s.epoch) });
    expect(epochs).toEqual([1, 2, 3]);
    expect(result.updates).toBe(3 * Math.ceil(3000 / 64));
    const [first, ...rest] = result.history;
    for (const stats of rest) expect(stats.tensors).toBe(first!.tensors);
    for (const stats of result.history) {
      expect(Number.isFinite(stats.loss) && Number.isFinite(stats.meanQ)).toBe(true);
      expect(stats.loss).toBeCloseTo(stats.temporalDifference + 0.1 * stats.conservative, 6);
    }
    // The rewards are 0 or 1: the greedy Q of a trained network lands near 1.
    expect(result.history.at(-1)!.meanQ).toBeGreaterThan(0.5);
    expect(result.history.at(-1)!.meanQ).toBeLessThan(1.5);
    result.network.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("reproducibility", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    test(`the same seed gives identical weights on ${backend}, another seed other weights`, async () => {
      await useBackend(backend);
      const options = { ...banditOptions, epochs: 1 };
      const runs = [trainDqn(bandit, options), trainDqn(bandit, options), trainDqn(bandit, { ...options, seed: 6 })];
      const [first, second, other] = runs.map((r) => weightsOf(r.network));
      expect(second).toEqual(first);
      expect(other).not.toEqual(first);
      const [firstCurve, secondCurve] = runs.map((r) =>
        r.history.map(({ transitionsPerSecond: _rate, tensors: _live, ...curve }) => curve),
      );
      expect(secondCurve).toEqual(firstCurve);
      for (const run of runs) run.network.dispose();
    });
  }
});

/**
 * The chain of the Q-learning test, on feature vectors [in A, in B]. Logged state 1 (B with "big"
 * eligible) and logged state 2 (B without) share features, so the network learns Q(B, big) = 5,
 * but the chain from A lands in state 2, where big is ineligible:
 *   Q*(A, none) = γ · Q*(B, promo) = 2.7 with γ = 0.9, against Q*(A, promo) = 1 (4.5 if big counted).
 */
function chain() {
  const states = [
    { key: 0, eligible: [1, 1, 0], features: [1, 0] },
    { key: 1, eligible: [1, 1, 1], features: [0, 1] },
    { key: 1, eligible: [1, 1, 0], features: [0, 1] },
  ];
  const steps: StepSpec[] = [];
  for (let i = 0; i < 40; i++) {
    steps.push(
      { state: 0, action: 0, reward: 0, next: 2 },
      { state: 2, action: 1, reward: 3 },
      { state: 0, action: 1, reward: 1 },
      { state: 2, action: 0, reward: 0 },
      { state: 1, action: 2, reward: 5 },
    );
  }
  return datasetOf(["none", "promo", "big"], 2, states, steps);
}

describe("trainDqn with γ > 0", () => {
  beforeAll(() => useBackend("wasm"));
  const chainOptions: Partial<DqnOptions> = {
    hidden: [16],
    epochs: 60,
    batchSize: 32,
    learningRate: 0.01,
    targetSyncEvery: 20,
    seed: 3,
  };

  test("bootstraps through eligible next actions and prefers waiting in A", () => {
    const result = trainDqn(chain(), { ...chainOptions, gamma: 0.9 });
    const [inA, inB] = predict(result.network, [
      [1, 0],
      [0, 1],
    ]);
    expect(inB![1]).toBeCloseTo(3, 0);
    expect(inB![2]).toBeCloseTo(5, 0);
    // The conservative penalty pulls Q(A, none) a little under 2.7; nowhere near 4.5.
    expect(inA![0]).toBeGreaterThan(2.2);
    expect(inA![0]).toBeLessThan(3);
    expect(greedyAction(inA!, [1, 1, 0])).toBe(0);
    result.network.dispose();
  });

  test("with γ = 0 the greedy action in A is the myopic one", () => {
    const result = trainDqn(chain(), { ...chainOptions, gamma: 0 });
    const [inA] = predict(result.network, [[1, 0]]);
    expect(greedyAction(inA!, [1, 1, 0])).toBe(1);
    result.network.dispose();
  });
});

describe("loss terms", () => {
  for (const backend of ["cpu", "wasm"] as const) {
    test(`double-DQN targets: the online net picks among eligible actions, the target net values it (${backend})`, async () => {
      await useBackend(backend);
      // Linear networks (no hidden layer) with hand-set weights: Q(s) = s · kernel.
      const online = buildQNetwork({ inputs: 2, hidden: [], actions: 3 }, createRng(1));
      const target = buildQNetwork({ inputs: 2, hidden: [], actions: 3 }, createRng(2));
      online.setWeights([
        tf.tensor2d([
          [1, 2, 9],
          [0, 0, 0],
        ]),
        tf.zeros([3]),
      ]);
      target.setWeights([
        tf.tensor2d([
          [10, 20, 90],
          [0, 0, 0],
        ]),
        tf.zeros([3]),
      ]);
      const targets = tf.tidy(() =>
        doubleDqnTargets(
          online,
          target,
          {
            rewards: tf.tensor1d([1, 1, 1]),
            nextStates: tf.tensor2d([
              [1, 0],
              [1, 0],
              [1, 0],
            ]),
            continues: tf.tensor1d([1, 1, 0]),
            // Row 0: action 2 ineligible, so the online argmax is 1; row 1: all eligible, so 2.
            nextEligible: tf.tensor2d([
              [1, 1, 0],
              [1, 1, 1],
              [1, 1, 1],
            ]),
          },
          0.5,
        ).arraySync(),
      );
      expect(targets).toEqual([1 + 0.5 * 20, 1 + 0.5 * 90, 1]);
      online.dispose();
      target.dispose();
    });
  }

  test("the conservative term is logsumexp over eligible actions minus the logged Q", () => {
    const { temporalDifference, conservative } = tf.tidy(() => {
      const terms = lossTerms(
        tf.tensor2d([[1, 2, 3]]),
        tf.tensor2d([[1, 0, 0]]),
        tf.tensor1d([4]),
        tf.tensor2d([[1, 1, 0]]),
        1,
      );
      return { temporalDifference: terms.temporalDifference.arraySync(), conservative: terms.conservative.arraySync() };
    });
    expect(conservative).toBeCloseTo(Math.log(Math.E + Math.E ** 2) - 1, 5);
    // Huber with δ = 1 on an error of 3: δ·(|e| − δ/2).
    expect(temporalDifference).toBeCloseTo(2.5, 5);
  });
});

describe("replay batches", () => {
  test("terminal steps bootstrap nothing and keep a finite next-action mask", () => {
    const dataset = datasetOf(
      ["none", "promo"],
      2,
      [
        { key: 0, eligible: [1, 0], features: [1, 2] },
        { key: 1, eligible: [1, 1], features: [3, 4] },
      ],
      [
        { state: 0, action: 0, reward: 2, next: 1 },
        { state: 1, action: 1, reward: 5 },
      ],
    );
    const batch = gatherBatch(dataset, transitionColumns(dataset), Int32Array.from([1, 0]));
    expect(Array.from(batch.states)).toEqual([3, 4, 1, 2]);
    expect(Array.from(batch.actionOneHot)).toEqual([0, 1, 1, 0]);
    expect(Array.from(batch.rewards)).toEqual([5, 2]);
    expect(Array.from(batch.continues)).toEqual([0, 1]);
    expect(Array.from(batch.nextStates)).toEqual([0, 0, 3, 4]);
    expect(Array.from(batch.stateEligible)).toEqual([1, 1, 1, 0]);
    expect(Array.from(batch.nextEligible)).toEqual([1, 1, 1, 1]);
  });
});

describe("dqnToPolicy", () => {
  beforeAll(() => useBackend("cpu"));

  test("copies the kernels row-major [in][out], so shared inference computes what tfjs does", () => {
    const network = buildQNetwork({ inputs: 5, hidden: [8, 6], actions: 3 }, createRng(4));
    const policy = dqnToPolicy(
      network,
      policyMeta({ actions: ["a", "b", "c"], featureSpecHash: "h" }, { version: "v" }),
    );
    expect(policy.model.algorithm).toBe("dqn");
    if (policy.model.algorithm !== "dqn") return;
    expect(policy.model.layers.map((l) => [l.inputs, l.outputs])).toEqual([
      [5, 8],
      [8, 6],
      [6, 3],
    ]);

    const input = [0.5, -1, 0, 2, 0.25];
    const shared = Array.from(compileInference(policy.model)(Float32Array.from(input), 0));
    predict(network, [input])[0]!.forEach((q, a) => expect(shared[a]).toBeCloseTo(q, 5));
    network.dispose();
  });

  test("refuses a network the edge would run differently, and a mismatched action list", () => {
    const tanh = tf.sequential({
      layers: [tf.layers.dense({ units: 4, activation: "tanh", inputShape: [2] }), tf.layers.dense({ units: 2 })],
    });
    const meta = policyMeta({ actions: ["a", "b"], featureSpecHash: "h" }, { version: "v" });
    expect(() => dqnToPolicy(tanh, meta)).toThrow(/layer 0/);
    const network = buildQNetwork({ inputs: 2, hidden: [4], actions: 3 }, createRng(1));
    expect(() => dqnToPolicy(network, meta)).toThrow(/2 actions, the network has 3 outputs/);
    tanh.dispose();
    network.dispose();
  });
});

test("input validation names the problem", () => {
  expect(() => trainDqn(bandit, { gamma: 1 })).toThrow(/gamma/);
  expect(() => trainDqn(bandit, { batchSize: 0 })).toThrow(/batchSize/);
  expect(() => trainDqn({ ...bandit, featureWidth: 3 })).toThrow(/features/);
});

test("measureDqnThroughput reports a rate on the active backend", async () => {
  await useBackend("wasm");
  const throughput = measureDqnThroughput(bandit, { ...banditOptions, batchSize: 128 });
  expect(throughput.backend).toBe("wasm");
  expect(throughput.transitions).toBe(Math.ceil(3000 / 128) * 128);
  expect(throughput.transitionsPerSecond).toBeGreaterThan(0);
});
