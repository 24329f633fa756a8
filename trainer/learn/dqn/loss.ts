import * as tf from "@tensorflow/tfjs";

/**
 * Added to the Q-values of ineligible actions before a max, argmax or logsumexp, so that they
 * never win and weigh nothing. Finite (unlike -Infinity), so 0 · it stays 0 and gradients stay clean.
 */
const INELIGIBLE_OFFSET = -1e9;

/** Q-values with every ineligible action pushed far below any real value. */
export function maskIneligible(q: tf.Tensor2D, eligible: tf.Tensor2D): tf.Tensor2D {
  return tf.add(q, tf.mul(tf.sub(1, eligible), INELIGIBLE_OFFSET));
}

export interface TargetInputs {
  rewards: tf.Tensor1D;
  nextStates: tf.Tensor2D;
  continues: tf.Tensor1D;
  nextEligible: tf.Tensor2D;
}

/**
 * Double-DQN targets: r + γ · Q_target(s', argmax over eligible a' of Q_online(s', a')), the second
 * term dropped for terminal steps. The online network picks and the target network evaluates, which
 * removes the upward bias of taking a max over noisy estimates with the same network.
 * (`apply`, not `predict`: predict re-slices its input into batches of 32, several times slower here.)
 */
export function doubleDqnTargets(
  online: tf.LayersModel,
  target: tf.LayersModel,
  inputs: TargetInputs,
  gamma: number,
): tf.Tensor1D {
  return tf.tidy(() => {
    const onlineNext = online.apply(inputs.nextStates) as tf.Tensor2D;
    const chosen = tf.argMax(maskIneligible(onlineNext, inputs.nextEligible), 1);
    const targetNext = target.apply(inputs.nextStates) as tf.Tensor2D;
    // An int32 one-hot, then a cast: on the wasm backend (tfjs 4.22) a float32 oneHot comes out all
    // zeros and gather with batchDims reads the wrong rows.
    const chosenOneHot = tf.cast(tf.oneHot(chosen, targetNext.shape[1]), "float32");
    const nextValue = tf.sum(tf.mul(targetNext, chosenOneHot), 1);
    return tf.add(inputs.rewards, tf.mul(tf.mul(inputs.continues, gamma), nextValue));
  });
}

export interface LossTerms {
  /** Huber loss between Q(s, a_logged) and the targets. */
  temporalDifference: tf.Scalar;
  /** Mean over the batch of logsumexp over eligible a of Q(s, a), minus Q(s, a_logged). */
  conservative: tf.Scalar;
}

/**
 * The two parts of the training loss, given the online network's Q(s, ·) for the batch.
 *
 * The conservative term is CQL(H)'s: it pushes down every eligible action's Q in proportion to its
 * softmax weight and pushes the logged action's Q back up. Actions the logs rarely took in a state
 * are only ever pushed down there, so the greedy policy does not chase values that nothing in the
 * data supports; on well-covered actions the two pushes cancel and the TD term decides.
 */
export function lossTerms(
  q: tf.Tensor2D,
  actionOneHot: tf.Tensor2D,
  targets: tf.Tensor1D,
  stateEligible: tf.Tensor2D,
  huberDelta: number,
): LossTerms {
  const logged = tf.sum(tf.mul(q, actionOneHot), 1);
  return {
    temporalDifference: tf.losses.huberLoss(targets, logged, undefined, huberDelta) as tf.Scalar,
    conservative: tf.mean(tf.sub(tf.logSumExp(maskIneligible(q, stateEligible), 1), logged)),
  };
}
