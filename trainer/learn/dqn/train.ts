import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../../data/dataset.ts";
import { createRng, sampleIndices, type Rng } from "../../../shared/rng.ts";
import { transitionColumns, type TransitionColumns } from "../../data/transitions.ts";
import { doubleDqnTargets, lossTerms, maskIneligible } from "./loss.ts";
import { buildQNetwork, trainableVariables } from "./network.ts";
import { sampleBatch, type ReplayBatch } from "./replay.ts";
import { buildTwoTowerNetwork } from "./two-tower.ts";
import type { TwoTowerShape } from "./two-tower-shape.ts";

export interface DqnOptions {
  /** Hidden layers of the per-action network. */
  hidden: readonly number[];
  /** When set, the network is the two-tower one over visitor and promotion features instead. */
  towers?: TwoTowerShape;
  gamma: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Gradient updates between copies of the online weights into the target network. */
  targetSyncEvery: number;
  /**
   * Weight α of the conservative (CQL) penalty; 0 turns it off. 0.1 keeps it a tie-breaker
   * against unsupported actions on rewards of order 1 without drowning the TD signal.
   */
  conservativeWeight: number;
  /**
   * Where the Huber loss turns from quadratic to linear, in reward units. It must sit above the
   * ordinary size of a reward: below it, every large reward (an order's margin, in shop currency)
   * pulls with the same capped force as a small one, and Q drifts from the mean towards the median,
   * which for rare, valuable conversions is about zero. Measured on the simulator (200k uniform logs,
   * γ = 0.95, three seeds): δ = 1 gives 67–70% of the oracle and promotes almost everywhere;
   * δ = 100 gives 76–79%. See trainer/sim/README.md, "Learning from simulated logs".
   */
  huberDelta: number;
  /** Seeds the initial weights, the minibatch draws and the evaluation sample. */
  seed: number;
  /** Logged states whose mean greedy Q is tracked per epoch, for the learning curve. */
  evaluationStates: number;
  /** Called after every epoch, for progress output. */
  onEpoch?: (stats: DqnEpochStats) => void;
}

export const DEFAULT_DQN_OPTIONS: DqnOptions = {
  hidden: [64, 64],
  gamma: 0.9,
  epochs: 20,
  batchSize: 256,
  learningRate: 1e-3,
  targetSyncEvery: 250,
  conservativeWeight: 0.1,
  // Quadratic for every ordinary TD error in shop currency (orders up to a few hundred, margin 40%);
  // linear only for outliers. Rewards of order 1 (clicks) are unaffected: quadratic either way.
  huberDelta: 100,
  seed: 1,
  evaluationStates: 1024,
};

export interface DqnEpochStats {
  epoch: number;
  /** Mean over the epoch's updates of temporalDifference + conservativeWeight · conservative. */
  loss: number;
  temporalDifference: number;
  conservative: number;
  /** Mean over the evaluation states of the greedy (eligible) Q-value. */
  meanQ: number;
  transitionsPerSecond: number;
  /** Live tfjs tensors after the epoch: flat from epoch to epoch unless something leaks. */
  tensors: number;
}

export interface DqnResult {
  /** The online network. The caller owns it: dispose() it when done. */
  network: tf.Sequential;
  history: DqnEpochStats[];
  updates: number;
  /** Minibatch transitions per second of gradient updates, over the whole run. */
  transitionsPerSecond: number;
  /** `tf.getBackend()` during training. */
  backend: string;
}

/**
 * Offline DQN over the logged transitions: uniform replay, a periodically synced target network,
 * double-DQN targets over the next state's eligible actions, Huber loss plus a conservative penalty,
 * Adam. An epoch is as many minibatches as there are steps over the batch size. Runs on whichever
 * backend is active (see selectBackend); with the same seed, cpu and wasm runs repeat exactly.
 */
export function trainDqn(dataset: Dataset, options: Partial<DqnOptions> = {}): DqnResult {
  const settings: DqnOptions = { ...DEFAULT_DQN_OPTIONS, ...options };
  validate(dataset, settings);
  const columns = transitionColumns(dataset);
  const rng = createRng(settings.seed);
  const { towers } = settings;
  const build = () =>
    towers
      ? buildTwoTowerNetwork(dataset.featureWidth, towers, rng)
      : buildQNetwork({ inputs: dataset.featureWidth, hidden: settings.hidden, actions: columns.actionCount }, rng);
  const online = build();
  // The target network starts as an exact copy; its own initial weights are overwritten at once.
  const target = build();
  target.setWeights(online.getWeights());
  const optimizer = tf.train.adam(settings.learningRate);
  const variables = trainableVariables(online);
  const evaluation = evaluationTensors(dataset, columns, rng, settings.evaluationStates);

  const updatesPerEpoch = Math.ceil(columns.state.length / settings.batchSize);
  const history: DqnEpochStats[] = [];
  let updates = 0;
  let trainingSeconds = 0;
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      let temporalDifference = 0;
      let conservative = 0;
      const started = performance.now();
      for (let u = 0; u < updatesPerEpoch; u++) {
        const batch = sampleBatch(dataset, columns, rng, settings.batchSize);
        const terms = update(online, target, optimizer, variables, batch, settings);
        temporalDifference += terms.temporalDifference / updatesPerEpoch;
        conservative += terms.conservative / updatesPerEpoch;
        if (++updates % settings.targetSyncEvery === 0) target.setWeights(online.getWeights());
      }
      const seconds = (performance.now() - started) / 1000;
      trainingSeconds += seconds;

      const stats: DqnEpochStats = {
        epoch,
        loss: temporalDifference + settings.conservativeWeight * conservative,
        temporalDifference,
        conservative,
        meanQ: meanGreedyQ(online, evaluation),
        transitionsPerSecond: (updatesPerEpoch * settings.batchSize) / seconds,
        tensors: tf.memory().numTensors,
      };
      history.push(stats);
      settings.onEpoch?.(stats);
    }
  } catch (error) {
    online.dispose();
    throw error;
  } finally {
    target.dispose();
    optimizer.dispose();
    tf.dispose([evaluation.states, evaluation.eligible]);
  }

  return {
    network: online,
    history,
    updates,
    transitionsPerSecond: (updates * settings.batchSize) / trainingSeconds,
    backend: tf.getBackend(),
  };
}

function validate(dataset: Dataset, settings: DqnOptions): void {
  if (dataset.steps.length === 0) throw new RangeError("no logged steps to learn from");
  if (!(settings.gamma >= 0 && settings.gamma < 1)) throw new RangeError(`gamma ${settings.gamma} must lie in [0, 1)`);
  for (const [name, value] of [
    ["epochs", settings.epochs],
    ["batchSize", settings.batchSize],
    ["targetSyncEvery", settings.targetSyncEvery],
    ["evaluationStates", settings.evaluationStates],
  ] as const) {
    if (!(Number.isInteger(value) && value > 0))
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (settings.towers && settings.towers.promotions.length !== dataset.actions.length) {
    throw new RangeError(
      `${settings.towers.promotions.length} promotions for the towers, the dataset has ${dataset.actions.length} actions`,
    );
  }
  const misfit = dataset.states.findIndex((s) => s.features.length !== dataset.featureWidth);
  if (misfit !== -1) {
    throw new RangeError(
      `logged state ${misfit} has ${dataset.states[misfit]!.features.length} features, the dataset says ${dataset.featureWidth}`,
    );
  }
}

/** One gradient step on one minibatch; returns the two loss terms before the step. */
function update(
  online: tf.LayersModel,
  target: tf.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  batch: ReplayBatch,
  settings: DqnOptions,
): { temporalDifference: number; conservative: number } {
  const [temporalDifference, conservative] = tf.tidy(() => {
    const { size } = batch;
    const actions = batch.actionOneHot.length / size;
    const states = tf.tensor2d(batch.states, [size, batch.states.length / size]);
    const actionOneHot = tf.tensor2d(batch.actionOneHot, [size, actions]);
    const stateEligible = tf.tensor2d(batch.stateEligible, [size, actions]);
    const rewards = tf.tensor1d(batch.rewards);
    // γ = 0 is the contextual bandit: the target is the reward, and the next state is never read.
    const targets =
      settings.gamma === 0
        ? rewards
        : doubleDqnTargets(
            online,
            target,
            {
              rewards,
              nextStates: tf.tensor2d(batch.nextStates, [size, batch.nextStates.length / size]),
              continues: tf.tensor1d(batch.continues),
              nextEligible: tf.tensor2d(batch.nextEligible, [size, actions]),
            },
            settings.gamma,
          );

    let kept: [tf.Scalar, tf.Scalar] | undefined;
    optimizer.minimize(
      () => {
        const q = online.apply(states, { training: true }) as tf.Tensor2D;
        const terms = lossTerms(q, actionOneHot, targets, stateEligible, settings.huberDelta);
        // Kept past the gradient's scope to be reported; disposed below, once read.
        kept = [tf.keep(terms.temporalDifference), tf.keep(terms.conservative)];
        return tf.add(terms.temporalDifference, tf.mul(terms.conservative, settings.conservativeWeight));
      },
      false,
      variables,
    );
    return kept!;
  });
  const values = { temporalDifference: temporalDifference.dataSync()[0]!, conservative: conservative.dataSync()[0]! };
  tf.dispose([temporalDifference, conservative]);
  return values;
}

interface EvaluationTensors {
  states: tf.Tensor2D;
  eligible: tf.Tensor2D;
}

function evaluationTensors(dataset: Dataset, columns: TransitionColumns, rng: Rng, count: number): EvaluationTensors {
  const picked = sampleIndices(rng, dataset.states.length, count);
  const width = dataset.featureWidth;
  const actions = columns.actionCount;
  const states = new Float32Array(picked.length * width);
  const eligible = new Float32Array(picked.length * actions);
  picked.forEach((state, row) => {
    states.set(dataset.states[state]!.features, row * width);
    eligible.set(columns.eligible.subarray(state * actions, (state + 1) * actions), row * actions);
  });
  return {
    states: tf.tensor2d(states, [picked.length, width]),
    eligible: tf.tensor2d(eligible, [picked.length, actions]),
  };
}

function meanGreedyQ(network: tf.LayersModel, evaluation: EvaluationTensors): number {
  return tf.tidy(() => {
    const q = network.apply(evaluation.states) as tf.Tensor2D;
    return tf.mean(tf.max(maskIneligible(q, evaluation.eligible), 1)).dataSync()[0]!;
  });
}
