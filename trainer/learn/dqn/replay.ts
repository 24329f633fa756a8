import type { Dataset } from "../../data/dataset.ts";
import { randomIndex, type Rng } from "../../../shared/rng.ts";
import type { TransitionColumns } from "../../data/transitions.ts";

/** A minibatch of logged transitions as flat row-major arrays, ready to become tensors. */
export interface ReplayBatch {
  size: number;
  /** [size][featureWidth] */
  states: Float32Array;
  /** [size][actionCount], 1 at the logged action. */
  actionOneHot: Float32Array;
  rewards: Float32Array;
  /** [size][featureWidth]; zeros for terminal steps. */
  nextStates: Float32Array;
  /** 1 when the step has a next state, 0 when terminal: multiplies the bootstrapped term. */
  continues: Float32Array;
  /** [size][actionCount] eligibility in the state; the conservative penalty's logsumexp runs over it. */
  stateEligible: Float32Array;
  /**
   * [size][actionCount] eligibility in the next state. All ones for terminal steps, so that a masked
   * argmax stays finite; `continues` zeroes what it picks.
   */
  nextEligible: Float32Array;
}

/**
 * Draws minibatches uniformly, with replacement, from the logged steps. Arrays are fresh per
 * batch: tfjs's cpu backend keeps a reference to a typed array it builds a tensor from rather than
 * copying it, so reusing buffers would rewrite tensors still in use.
 */
export function sampleBatch(dataset: Dataset, columns: TransitionColumns, rng: Rng, size: number): ReplayBatch {
  return gatherBatch(
    dataset,
    columns,
    Int32Array.from({ length: size }, () => randomIndex(rng, columns.state.length)),
  );
}

/** The batch of the given step indices. */
export function gatherBatch(dataset: Dataset, columns: TransitionColumns, stepIndices: Int32Array): ReplayBatch {
  const { actionCount, eligible } = columns;
  const width = dataset.featureWidth;
  const size = stepIndices.length;
  const batch: ReplayBatch = {
    size,
    states: new Float32Array(size * width),
    actionOneHot: new Float32Array(size * actionCount),
    rewards: new Float32Array(size),
    nextStates: new Float32Array(size * width),
    continues: new Float32Array(size),
    stateEligible: new Float32Array(size * actionCount),
    nextEligible: new Float32Array(size * actionCount).fill(1),
  };
  for (let row = 0; row < size; row++) {
    const step = stepIndices[row]!;
    const state = columns.state[step]!;
    batch.states.set(dataset.states[state]!.features, row * width);
    batch.actionOneHot[row * actionCount + columns.action[step]!] = 1;
    batch.rewards[row] = columns.reward[step]!;
    batch.stateEligible.set(eligible.subarray(state * actionCount, (state + 1) * actionCount), row * actionCount);
    const next = columns.next[step]!;
    if (next >= 0) {
      batch.nextStates.set(dataset.states[next]!.features, row * width);
      batch.continues[row] = 1;
      batch.nextEligible.set(eligible.subarray(next * actionCount, (next + 1) * actionCount), row * actionCount);
    }
  }
  return batch;
}
