import type { DenseLayer, PolicyModel } from "./types.ts";

/** Computes Q-values for one state. The returned array is reused by the next call: copy it to keep it. */
export type QFunction = (features: Float32Array, stateKey: number) => Float32Array;

/**
 * Builds the inference function of a model. Buffers are allocated once here, so that a decision
 * allocates nothing: the edge's CPU budget is microseconds.
 */
export function compileInference(model: PolicyModel): QFunction {
  if (model.algorithm === "qtable") {
    const actions = model.q.length / model.stateCount;
    const { q, stateCount } = model;
    return (_features, stateKey) => {
      if (!(Number.isInteger(stateKey) && stateKey >= 0 && stateKey < stateCount)) {
        throw new RangeError(`state key ${stateKey} is not an integer in [0, ${stateCount})`);
      }
      return q.subarray(stateKey * actions, (stateKey + 1) * actions);
    };
  }
  const { layers } = model;
  const activations = layers.map((layer) => new Float32Array(layer.outputs));
  const inputs = layers[0]?.inputs;
  return (features) => {
    if (features.length !== inputs)
      throw new RangeError(`${features.length} features for a network of ${inputs} inputs`);
    let input = features;
    layers.forEach((layer, i) => {
      const output = activations[i]!;
      denseForward(layer, input, output, i < layers.length - 1);
      input = output;
    });
    return input;
  };
}

/** output = act(input · kernel + bias), kernel row-major [inputs][outputs]. */
export function denseForward(layer: DenseLayer, input: Float32Array, output: Float32Array, relu: boolean): void {
  const { inputs, outputs, kernel, bias } = layer;
  output.set(bias);
  for (let i = 0; i < inputs; i++) {
    const x = input[i]!;
    if (x === 0) continue;
    const row = i * outputs;
    for (let j = 0; j < outputs; j++) output[j]! += x * kernel[row + j]!;
  }
  if (relu) for (let j = 0; j < outputs; j++) if (output[j]! < 0) output[j] = 0;
}
