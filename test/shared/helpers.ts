/** Arbitraries and fixtures shared by the tests of `shared/`. Not a test file itself. */
import fc from "fast-check";
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE, DEFAULT_CONTROL, type ControlPolicy } from "../../shared/catalogue.ts";
import { DEVICE_CLASSES, PAGE_TYPES, REFERRER_CLASSES, type Context } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { PolicyFormatError, type PolicyFormatErrorCause } from "../../shared/policy/format.ts";
import type { DenseLayer, Exploration, Policy, PolicyMeta } from "../../shared/policy/types.ts";
import { encodePromotion, PROMOTION_ENCODING, PROMOTION_FEATURE_WIDTH } from "../../shared/promotion-features.ts";
import { createRng } from "../../shared/rng.ts";

export const DAY_MS = 86_400_000;

/** A finite non-negative double, biased towards the small values that matter to buckets. */
const nonNegative = (max: number) =>
  fc.oneof(
    fc.constantFrom(0, 0.5, 1, 2, 3, 6, 7, 39.99, 40, 60, 80, 1000),
    fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true }),
  );

/** Any value of the zod Context schema's domain (the tests check that the schema accepts each one). */
export const contextArb: fc.Arbitrary<Context> = fc.record({
  device: fc.constantFrom(...DEVICE_CLASSES),
  country: fc.oneof(fc.constantFrom("US", "GB", "DE", "CA", "JP", "ZZ"), fc.stringMatching(/^[A-Z]{2}$/)),
  localHour: fc.integer({ min: 0, max: 23 }),
  weekday: fc.integer({ min: 0, max: 6 }),
  page: fc.constantFrom(...PAGE_TYPES),
  referrer: fc.constantFrom(...REFERRER_CLASSES),
  cartValue: nonNegative(1_000_000),
  visits: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.nat()),
  daysSinceLastVisit: fc.option(nonNegative(Number.MAX_VALUE), { nil: null }),
  purchases: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.nat()),
  daysSinceLastPurchase: fc.option(nonNegative(Number.MAX_VALUE), { nil: null }),
  promosSeen7d: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.nat()),
  lastPromotion: fc.option(fc.oneof(fc.constantFrom(...DEFAULT_ACTION_IDS), fc.string({ maxLength: 64 })), {
    nil: null,
  }),
});

export const BASE_CONTEXT: Context = {
  device: "mobile",
  country: "US",
  localHour: 14,
  weekday: 2,
  page: "product",
  referrer: "search",
  cartValue: 50,
  visits: 3,
  daysSinceLastVisit: 2.5,
  purchases: 1,
  daysSinceLastPurchase: 20,
  promosSeen7d: 1,
  lastPromotion: "pct10",
};

export function randomFloat32(n: number, random: () => number, magnitude = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 2 - 1) * magnitude;
  return out;
}

export function makeMeta(overrides: Partial<PolicyMeta> = {}): PolicyMeta {
  return {
    version: "2025-06-01.qt-1",
    featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
    actions: DEFAULT_ACTION_IDS,
    exploration: { type: "softmax", temperature: 0.25, floor: 0.02 },
    createdAt: "2025-06-01T12:00:00.000Z",
    training: {
      dataFrom: "2025-05-01T00:00:00.000Z",
      dataTo: "2025-05-31T23:59:59.999Z",
      decisions: 120_345,
      transitions: 98_765,
      gamma: 0.9,
      backend: "tfjs-wasm",
      estimate: { estimator: "snips", value: 1.2345, lower: 1.01, upper: 1.49, level: 0.95 },
    },
    ...overrides,
  };
}

export function qtablePolicy(
  seed = 1,
  meta: Partial<PolicyMeta> = {},
  stateCount = DEFAULT_COMPILED_SPEC.stateCount,
): Policy {
  const m = makeMeta(meta);
  return {
    meta: m,
    model: { algorithm: "qtable", stateCount, q: randomFloat32(stateCount * m.actions.length, createRng(seed), 3) },
  };
}

/** A DQN with layer widths `sizes` (inputs first, one Q-value per action last). */
export function dqnLayers(sizes: readonly number[], seed = 1): DenseLayer[] {
  const random = createRng(seed);
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const inputs = sizes[i]!;
    const outputs = sizes[i + 1]!;
    layers.push({
      inputs,
      outputs,
      kernel: randomFloat32(inputs * outputs, random, 0.5),
      bias: randomFloat32(outputs, random, 0.1),
    });
  }
  return layers;
}

/** A DQN over the default spec and catalogue with `hidden` hidden layers of the given widths. */
export function dqnPolicy(hidden: readonly number[], seed = 1, meta: Partial<PolicyMeta> = {}): Policy {
  const m = makeMeta({ version: `2025-06-01.dqn-${hidden.length + 1}`, ...meta });
  return {
    meta: m,
    model: { algorithm: "dqn", layers: dqnLayers([DEFAULT_COMPILED_SPEC.width, ...hidden, m.actions.length], seed) },
  };
}

/**
 * A features policy over the default spec, trained (in name) on the default catalogue, whose
 * promotions the logs showed `decisions` times each.
 */
export function featuresPolicy(
  seed = 1,
  options: {
    visitorHidden?: readonly number[];
    promotionHidden?: readonly number[];
    embedding?: number;
    decisions?: number;
  } = {},
  meta: Partial<PolicyMeta> = {},
): Policy {
  const { visitorHidden = [32], promotionHidden = [16], embedding = 8, decisions = 10_000 } = options;
  return {
    meta: makeMeta({ version: "2025-06-01.features-1", ...meta }),
    model: {
      algorithm: "features",
      promotionEncoding: PROMOTION_ENCODING,
      visitor: dqnLayers([DEFAULT_COMPILED_SPEC.width, ...visitorHidden, embedding], seed),
      promotion: dqnLayers([PROMOTION_FEATURE_WIDTH, ...promotionHidden, embedding + 1], seed + 1),
      promotions: DEFAULT_CATALOGUE.map((p) => ({ id: p.id, features: encodePromotion(p), decisions })),
    },
  };
}

export const explorationArb: fc.Arbitrary<Exploration> = fc.oneof(
  fc.record({
    type: fc.constant("epsilon" as const),
    epsilon: fc.oneof(fc.constantFrom(0, 0.05, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    floor: fc.oneof(fc.constantFrom(0, 0.01, 0.05, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
  fc.record({
    type: fc.constant("softmax" as const),
    temperature: fc.oneof(fc.constantFrom(0.001, 0.1, 1, 100), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
    floor: fc.oneof(fc.constantFrom(0, 0.01, 0.05, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
);

/** Q-values and a non-empty eligibility mask of the same length; ties are common on purpose. */
export const qAndMaskArb: fc.Arbitrary<{ q: Float64Array; eligible: Uint8Array }> = fc
  .integer({ min: 1, max: 10 })
  .chain((n) =>
    fc.record({
      q: fc.array(fc.oneof(fc.constantFrom(-1, 0, 1), fc.double({ min: -100, max: 100, noNaN: true })), {
        minLength: n,
        maxLength: n,
      }),
      eligible: fc.array(fc.boolean(), { minLength: n, maxLength: n }).filter((m) => m.some(Boolean)),
    }),
  )
  .map(({ q, eligible }) => ({ q: Float64Array.from(q), eligible: Uint8Array.from(eligible, Number) }));

export const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The PolicyFormatError reason `run` throws, or "no error"; any other error propagates. */
export function reasonOf(run: () => unknown): PolicyFormatErrorCause | "no error" {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyFormatError) return error.reason;
    throw error;
  }
  return "no error";
}

/** The exact probability the control-with-exploration fallback gives `actionId` among `n` eligible actions. */
export function controlPropensity(actionId: string, n: number, control: ControlPolicy = DEFAULT_CONTROL): number {
  const explored = control.exploration / n;
  return actionId === control.action ? 1 - control.exploration + explored : explored;
}
