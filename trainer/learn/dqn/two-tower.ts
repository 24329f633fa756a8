import * as tf from "@tensorflow/tfjs";
import type { DenseLayer, FeaturesModel, Policy, PolicyMeta, TrainedPromotion } from "../../../shared/policy/types.ts";
import { PROMOTION_ENCODING } from "../../../shared/promotion-features.ts";
import { deriveSeed, type Rng } from "../../../shared/rng.ts";
import { denseStack } from "./network.ts";
import { sharedDenseLayers } from "./to-policy.ts";
import type { TwoTowerShape } from "./two-tower-shape.ts";

interface PromotionScoresArgs {
  promotions: readonly Float32Array[];
  hidden: readonly number[];
  embedding: number;
  seeds: readonly number[];
}

/**
 * The promotion tower and the scoring, as one layer over the visitor embedding: it runs the
 * promotion tower on the (constant) table of training promotions and returns one Q-value per
 * promotion. Being a layer keeps the two-tower network a tf.Sequential, so the DQN machinery
 * (target network copies, the optimiser's variables, predict for parity) works on it unchanged.
 */
class PromotionScores extends tf.layers.Layer {
  static readonly className = "PromotionScores";
  readonly table: tf.Tensor2D;
  readonly sizes: readonly number[];
  readonly seeds: readonly number[];
  tensors: { kernel: tf.LayerVariable; bias: tf.LayerVariable }[] = [];

  constructor(args: PromotionScoresArgs) {
    super({ name: "promotion_scores" });
    const width = args.promotions[0]?.length ?? 0;
    const flat = new Float32Array(args.promotions.length * width);
    args.promotions.forEach((p, i) => flat.set(p, i * width));
    this.table = tf.keep(tf.tensor2d(flat, [args.promotions.length, width]));
    this.sizes = [width, ...args.hidden, args.embedding + 1];
    this.seeds = args.seeds;
  }

  override build(): void {
    this.tensors = this.sizes.slice(1).map((outputs, i) => ({
      kernel: this.addWeight(
        `promotion_${i}/kernel`,
        [this.sizes[i]!, outputs],
        "float32",
        tf.initializers.glorotUniform({ seed: this.seeds[i]! }),
      ),
      bias: this.addWeight(`promotion_${i}/bias`, [outputs], "float32", tf.initializers.zeros()),
    }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0]!, this.table.shape[0]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const u = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor2D;
      let v: tf.Tensor2D = this.table;
      this.tensors.forEach(({ kernel, bias }, i) => {
        const z = tf.add(tf.matMul(v, kernel.read() as tf.Tensor2D), bias.read()) as tf.Tensor2D;
        v = i < this.tensors.length - 1 ? tf.relu(z) : z;
      });
      const d = u.shape[1];
      const count = this.table.shape[0];
      const vectors = tf.slice(v, [0, 0], [count, d]);
      const offsets = tf.reshape(tf.slice(v, [0, d], [count, 1]), [1, count]);
      return tf.add(tf.matMul(u, vectors, false, true), offsets);
    });
  }

  /** The promotion tower's weights, copied out, as the shared format's dense layers. */
  denseLayers(): DenseLayer[] {
    return this.tensors.map(({ kernel, bias }, i) => ({
      inputs: this.sizes[i]!,
      outputs: this.sizes[i + 1]!,
      kernel: new Float32Array(kernel.read().dataSync()),
      bias: new Float32Array(bias.read().dataSync()),
    }));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sizes: [...this.sizes] };
  }

  override dispose(): ReturnType<tf.layers.Layer["dispose"]> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.table.dispose();
    return result;
  }
}

/**
 * The two-tower Q-network: ReLU visitor layers to a linear embedding, then {@link PromotionScores}.
 * Seeds come from `rng`, like the per-action network's.
 */
export function buildTwoTowerNetwork(inputs: number, shape: TwoTowerShape, rng: Rng): tf.Sequential {
  for (const units of [...shape.visitorHidden, ...shape.promotionHidden, shape.embedding]) {
    if (!(Number.isInteger(units) && units > 0))
      throw new RangeError(`tower sizes must be positive integers, got ${units}`);
  }
  if (shape.promotions.length === 0) throw new RangeError("a two-tower network needs at least one promotion");
  const network = tf.sequential({ layers: denseStack(inputs, [...shape.visitorHidden, shape.embedding], rng) });
  const seeds = [...shape.promotionHidden, 0].map(() => deriveSeed(rng));
  network.add(
    new PromotionScores({
      promotions: shape.promotions,
      hidden: shape.promotionHidden,
      embedding: shape.embedding,
      seeds,
    }),
  );
  return network;
}

/**
 * The trained two-tower network as a shared features policy. `promotions` are the training
 * catalogue's, with their logged counts, in `meta.actions` order.
 */
export function twoTowerToPolicy(
  network: tf.LayersModel,
  meta: PolicyMeta,
  promotions: readonly TrainedPromotion[],
): Policy {
  const scores = network.layers.at(-1);
  if (!(scores instanceof PromotionScores)) throw new TypeError("the network does not end in the promotion tower");
  const visitor = sharedDenseLayers(network.layers.slice(0, -1));
  if (promotions.length !== meta.actions.length || promotions.some((p, i) => p.id !== meta.actions[i])) {
    throw new RangeError(`the promotion table must list the actions [${meta.actions}] in order`);
  }
  const model: FeaturesModel = {
    algorithm: "features",
    promotionEncoding: PROMOTION_ENCODING,
    visitor,
    promotion: scores.denseLayers(),
    promotions,
  };
  return { meta, model };
}
