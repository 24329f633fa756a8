import type * as tf from "@tensorflow/tfjs";
import type { DenseLayer, Policy, PolicyMeta } from "../../../shared/policy/types.ts";

/**
 * Dense layers' weights in the shared format. Refuses any layer the edge would run differently
 * from tfjs: shared inference knows only dense layers with biases, ReLU between them and a linear
 * last one.
 */
export function sharedDenseLayers(layers: readonly tf.layers.Layer[]): DenseLayer[] {
  return layers.map((layer, i): DenseLayer => {
    const config = layer.getConfig();
    const expected = i < layers.length - 1 ? "relu" : "linear";
    if (layer.getClassName() !== "Dense" || config.activation !== expected || config.useBias !== true) {
      throw new TypeError(
        `layer ${i} (${layer.getClassName()}, ${String(config.activation)}) is not a dense ${expected} layer with a bias`,
      );
    }
    const [kernel, bias] = layer.getWeights();
    const [inputs, outputs] = kernel!.shape as [number, number];
    // dataSync can hand out the backend's own buffer: copy, so the policy outlives the network.
    return { inputs, outputs, kernel: new Float32Array(kernel!.dataSync()), bias: new Float32Array(bias!.dataSync()) };
  });
}

/** The network's weights as a shared DQN policy. */
export function dqnToPolicy(network: tf.LayersModel, meta: PolicyMeta): Policy {
  const layers = sharedDenseLayers(network.layers);
  if (layers.at(-1)?.outputs !== meta.actions.length) {
    throw new RangeError(
      `policy names ${meta.actions.length} actions, the network has ${layers.at(-1)?.outputs} outputs`,
    );
  }
  return { meta, model: { algorithm: "dqn", layers } };
}
