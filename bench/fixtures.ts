/**
 * Deterministic inputs for the measurements: random-weight policies of a given shape, and varied
 * decision contexts. Weights are random because the figures are about cost, not quality: a DQN's
 * inference cost depends on its shape alone (the dense kernels are walked in full for every non-zero input).
 */
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE, type ExposureCounts } from "../shared/catalogue.ts";
import { DEVICE_CLASSES, PAGE_TYPES, REFERRER_CLASSES, type Context } from "../shared/context.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import type { DenseLayer, Exploration, Policy } from "../shared/policy/types.ts";
import { encodePromotion, PROMOTION_ENCODING, PROMOTION_FEATURE_WIDTH } from "../shared/promotion-features.ts";
import type { TwoTowerShape } from "../trainer/learn/dqn/two-tower-shape.ts";
import { createRng, randomIndex, type Rng } from "../shared/rng.ts";

/** The trainer's default exploration rule (epsilon-greedy with a propensity floor). */
export const BENCH_EXPLORATION: Exploration = { type: "epsilon", epsilon: 0.05, floor: 0.01 };

function meta(version: string): Policy["meta"] {
  return {
    version,
    featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
    actions: DEFAULT_ACTION_IDS,
    exploration: BENCH_EXPLORATION,
    createdAt: "2026-01-01T00:00:00.000Z",
    training: null,
  };
}

/** Glorot-uniform weights, small random biases. */
function denseLayer(rng: () => number, inputs: number, outputs: number): DenseLayer {
  const limit = Math.sqrt(6 / (inputs + outputs));
  const kernel = new Float32Array(inputs * outputs);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (rng() * 2 - 1) * limit;
  const bias = new Float32Array(outputs);
  for (let i = 0; i < bias.length; i++) bias[i] = (rng() * 2 - 1) * 0.05;
  return { inputs, outputs, kernel, bias };
}

/** A DQN [featureWidth → ...hidden → actions] with random weights. */
export function randomDqnPolicy(hidden: readonly number[], version: string, seed = 1): Policy {
  const rng = createRng(seed);
  const sizes = [DEFAULT_COMPILED_SPEC.width, ...hidden, DEFAULT_ACTION_IDS.length];
  const layers = sizes.slice(1).map((outputs, i) => denseLayer(rng, sizes[i]!, outputs));
  return { meta: meta(version), model: { algorithm: "dqn", layers } };
}

/** A features policy with towers of `shape`, trained (in name) on the default catalogue. */
export function randomFeaturesPolicy(shape: Omit<TwoTowerShape, "promotions">, version: string, seed = 3): Policy {
  const rng = createRng(seed);
  const tower = (sizes: readonly number[]) => sizes.slice(1).map((outputs, i) => denseLayer(rng, sizes[i]!, outputs));
  return {
    meta: meta(version),
    model: {
      algorithm: "features",
      promotionEncoding: PROMOTION_ENCODING,
      visitor: tower([DEFAULT_COMPILED_SPEC.width, ...shape.visitorHidden, shape.embedding]),
      promotion: tower([PROMOTION_FEATURE_WIDTH, ...shape.promotionHidden, shape.embedding + 1]),
      promotions: DEFAULT_CATALOGUE.map((p) => ({ id: p.id, features: encodePromotion(p), decisions: 10_000 })),
    },
  };
}

/** A Q-table over the spec's full state space with random values. */
export function randomQtablePolicy(version: string, seed = 2): Policy {
  const rng = createRng(seed);
  const { stateCount } = DEFAULT_COMPILED_SPEC;
  const q = new Float32Array(stateCount * DEFAULT_ACTION_IDS.length);
  for (let i = 0; i < q.length; i++) q[i] = rng() * 10 - 5;
  return { meta: meta(version), model: { algorithm: "qtable", stateCount, q } };
}

/** Float32 parameter count of a DQN with the given hidden widths. */
export function dqnParameterCount(hidden: readonly number[]): number {
  const sizes = [DEFAULT_COMPILED_SPEC.width, ...hidden, DEFAULT_ACTION_IDS.length];
  let n = 0;
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1]! * sizes[i]! + sizes[i]!;
  return n;
}

/** Two equal hidden layers sized so that the float32 weights take about `bytes`. */
export function dqnHiddenForBytes(bytes: number): number[] {
  let h = 8;
  while (dqnParameterCount([h + 1, h + 1]) * 4 <= bytes) h++;
  return [h, h];
}

const COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "CA", "AU", "JP", "BR", "SE", "IN", "MX"] as const;
const PROMOTION_IDS = DEFAULT_CATALOGUE.map((p) => p.id);

export interface DecisionInput {
  context: Context;
  exposures: ExposureCounts;
}

/**
 * Varied, valid contexts: every categorical value (and some outside the spec's one-hots), carts from
 * empty to large, first-time and returning visitors, exposure caps sometimes reached.
 */
export function variedDecisionInputs(count: number, seed = 7): DecisionInput[] {
  const rng = createRng(seed);
  const maybe = <T>(p: number, value: () => T): T | null => (rng() < p ? value() : null);
  return Array.from({ length: count }, () => {
    const visits = Math.floor(rng() * rng() * 30);
    const purchases = visits === 0 ? 0 : Math.floor(rng() * rng() * 6);
    const exposures: Record<string, number> = {};
    for (const id of PROMOTION_IDS) if (id !== "none" && rng() < 0.3) exposures[id] = Math.floor(rng() * 4);
    const context: Context = {
      device: pick(rng, DEVICE_CLASSES),
      country: pick(rng, COUNTRIES),
      localHour: Math.floor(rng() * 24),
      weekday: Math.floor(rng() * 7),
      page: pick(rng, PAGE_TYPES),
      referrer: pick(rng, REFERRER_CLASSES),
      cartValue: rng() < 0.3 ? 0 : Math.round(rng() * rng() * 25_000) / 100,
      visits,
      daysSinceLastVisit: visits > 1 ? rng() * 60 : null,
      purchases,
      daysSinceLastPurchase: purchases > 0 ? rng() * 120 : null,
      promosSeen7d: Object.values(exposures).reduce((a, b) => a + b, 0),
      lastPromotion: maybe(0.6, () => pick(rng, PROMOTION_IDS)),
    };
    return { context, exposures };
  });
}

/** Ids shaped like the edge's signed decision ids (time.random.tag, base64url): the draw hashes the whole string. */
export function decisionIds(count: number, seed = 11): string[] {
  const rng = createRng(seed);
  const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  const token = (n: number) => Array.from({ length: n }, () => chars[Math.floor(rng() * chars.length)]).join("");
  return Array.from(
    { length: count },
    (_, i) => `${(1_780_000_000_000 + i * 997).toString(36)}.${token(22)}.${token(22)}`,
  );
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randomIndex(rng, items.length)]!;
}
