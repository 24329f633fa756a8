import * as tf from "@tensorflow/tfjs";
import { deriveSeed, type Rng } from "../../../shared/rng.ts";

export interface QNetworkShape {
  inputs: number;
  hidden: readonly number[];
  actions: number;
}

/**
 * An MLP from features to one Q-value per action: ReLU hidden layers and a linear output, the only
 * architecture the edge's shared inference runs. Each kernel draws its Glorot seed from `rng`, so
 * the initial weights, like everything else in a run, follow from the run's seed.
 */
export function buildQNetwork(shape: QNetworkShape, rng: Rng): tf.Sequential {
  if (shape.hidden.some((units) => !(Number.isInteger(units) && units > 0))) {
    throw new RangeError(`hidden layer sizes must be positive integers, got [${shape.hidden}]`);
  }
  return tf.sequential({ layers: denseStack(shape.inputs, [...shape.hidden, shape.actions], rng) });
}

/** Dense layers of `sizes` units over `inputs`: ReLU between, linear last, Glorot kernels seeded from `rng`. */
export function denseStack(inputs: number, sizes: readonly number[], rng: Rng): tf.layers.Layer[] {
  return sizes.map((units, i) =>
    tf.layers.dense({
      units,
      activation: i < sizes.length - 1 ? "relu" : "linear",
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(rng) }),
      biasInitializer: "zeros",
      ...(i === 0 ? { inputShape: [inputs] } : {}),
    }),
  );
}

/** The variables an optimiser may move. */
export function trainableVariables(network: tf.LayersModel): tf.Variable[] {
  // A LayerVariable's read() is the tf.Variable itself, which is what optimisers update.
  return network.trainableWeights.map((weight) => weight.read() as tf.Variable);
}
