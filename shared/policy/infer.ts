import type { DenseLayer, FeaturesModel, PolicyModel } from "./types.ts";

/** Computes Q-values for one state. The returned array is reused by the next call: copy it to keep it. */
export type QFunction = (features: Float32Array, stateKey: number) => Float32Array;

/**
 * Builds the inference function of a model. Buffers are allocated once here, so that a decision
 * allocates nothing: the edge's CPU budget is microseconds.
 *
 * A features model scores `promotions` (encoded attributes, in catalogue order), by default the
 * ones it was trained with; the other models score their own actions and take no promotions.
 */
export function compileInference(model: PolicyModel, promotions?: readonly Float32Array[]): QFunction {
  if (model.algorithm === "features") return compileFeaturesInference(model, promotions);
  if (promotions !== undefined) {
    throw new TypeError(`a ${model.algorithm} policy scores its own actions, not promotions given by their features`);
  }
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
  return compileMlp(model.layers);
}

/** An MLP's forward pass, into buffers it owns: ReLU between layers, a linear last one. */
function compileMlp(layers: readonly DenseLayer[]): (input: Float32Array) => Float32Array {
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

/**
 * The promotion tower runs once per catalogue, here; a decision runs the visitor tower and one dot
 * product per promotion, which keeps it as cheap as a per-action network.
 */
function compileFeaturesInference(model: FeaturesModel, promotions?: readonly Float32Array[]): QFunction {
  const promotionTower = compileMlp(model.promotion);
  const embeddings = (promotions ?? model.promotions.map((p) => p.features)).map((f) =>
    Float32Array.from(promotionTower(f)),
  );
  const visitorTower = compileMlp(model.visitor);
  const width = model.visitor.at(-1)!.outputs;
  const q = new Float32Array(embeddings.length);
  return (features) => {
    const u = visitorTower(features);
    for (let a = 0; a < embeddings.length; a++) {
      const v = embeddings[a]!;
      let sum = v[width]!;
      for (let k = 0; k < width; k++) sum += u[k]! * v[k]!;
      q[a] = sum;
    }
    return q;
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
