import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_COMPILED_SPEC, encodeFeatures } from "../../shared/features.ts";
import { decodePolicy, encodePolicy } from "../../shared/policy/format.ts";
import { compileInference, denseForward } from "../../shared/policy/infer.ts";
import type { DenseLayer, PolicyModel } from "../../shared/policy/types.ts";
import { BASE_CONTEXT, contextArb, dqnLayers, dqnPolicy, qtablePolicy } from "./helpers.ts";

/** The textbook forward pass, in float64 with nested loops: ReLU on every layer but the last. */
function reference(layers: readonly DenseLayer[], input: ArrayLike<number>): number[] {
  let x = Array.from(input);
  layers.forEach((layer, l) => {
    const y: number[] = [];
    for (let j = 0; j < layer.outputs; j++) {
      let sum = layer.bias[j]!;
      for (let i = 0; i < layer.inputs; i++) sum += x[i]! * layer.kernel[i * layer.outputs + j]!;
      y.push(l < layers.length - 1 ? Math.max(0, sum) : sum);
    }
    x = y;
  });
  return x;
}

// float32 sums of 64 products against a float64 reference: rounding grows with the size of the
// hidden activations, not of the output, so 1e-5 relative to the output failed about 1 run in 40.
function expectClose(got: ArrayLike<number>, want: readonly number[]) {
  expect(got.length).toBe(want.length);
  for (let j = 0; j < want.length; j++) {
    expect(Math.abs(got[j]! - want[j]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[j]!)));
  }
}

const smallFloat = fc.oneof(fc.constant(0), fc.double({ min: -2, max: 2, noNaN: true }));

describe("dqn inference", () => {
  test("matches a naive reference forward pass (random networks of 1 to 3 layers)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.array(smallFloat, { minLength: 12, maxLength: 12 }),
        (sizes, seed, rawInput) => {
          const layers = dqnLayers(sizes, seed);
          const input = Float32Array.from(rawInput.slice(0, sizes[0]));
          const q = compileInference({ algorithm: "dqn", layers })(input, 0);
          expectClose(q, reference(layers, input));
        },
      ),
    );
  });

  test("matches the reference on real encoded contexts through the default-sized networks", () => {
    for (const hidden of [[], [32], [64, 16]]) {
      const policy = dqnPolicy(hidden, 21);
      if (policy.model.algorithm !== "dqn") throw new Error("unreachable");
      const { layers } = policy.model;
      const q = compileInference(policy.model);
      fc.assert(
        fc.property(contextArb, (c) => {
          const features = encodeFeatures(DEFAULT_COMPILED_SPEC, c);
          expectClose(q(features, 0), reference(layers, features));
        }),
        { numRuns: 50 },
      );
    }
  });

  test("hidden layers are rectified, the last layer is linear", () => {
    const layers: DenseLayer[] = [
      { inputs: 1, outputs: 2, kernel: Float32Array.of(1, -1), bias: Float32Array.of(0, 0) },
      { inputs: 2, outputs: 2, kernel: Float32Array.of(1, 0, 1, -1), bias: Float32Array.of(0, -5) },
    ];
    const q = compileInference({ algorithm: "dqn", layers });
    // x = 3: hidden = relu(3, -3) = (3, 0); out = (3 + 0, -5 - 0) — negative output kept.
    expect([...q(Float32Array.of(3), 0)]).toEqual([3, -5]);
    // x = -2: hidden = relu(-2, 2) = (0, 2); out = (0 + 2, -5 - 2).
    expect([...q(Float32Array.of(-2), 0)]).toEqual([2, -7]);
  });

  test("denseForward with and without ReLU", () => {
    const layer: DenseLayer = {
      inputs: 2,
      outputs: 2,
      kernel: Float32Array.of(1, 2, 3, 4),
      bias: Float32Array.of(-10, 1),
    };
    const out = new Float32Array(2).fill(99); // stale content must not leak in
    denseForward(layer, Float32Array.of(1, 2), out, false);
    expect([...out]).toEqual([1 + 6 - 10, 2 + 8 + 1]);
    denseForward(layer, Float32Array.of(1, 2), out, true);
    expect([...out]).toEqual([0, 11]);
  });

  test("ignores the state key and reuses its output buffer", () => {
    const policy = dqnPolicy([8], 3);
    const q = compileInference(policy.model);
    const a = encodeFeatures(DEFAULT_COMPILED_SPEC, BASE_CONTEXT);
    const first = Float32Array.from(q(a, 0));
    expect([...q(a, 123456)]).toEqual([...first]);
    expect(q(a, 0)).toBe(q(a, 0));
  });

  test("refuses a feature vector of the wrong width", () => {
    const q = compileInference(dqnPolicy([8], 3).model);
    expect(() => q(new Float32Array(DEFAULT_COMPILED_SPEC.width - 1), 0)).toThrow(RangeError);
    expect(() => q(new Float32Array(DEFAULT_COMPILED_SPEC.width + 1), 0)).toThrow(RangeError);
  });

  test("a decoded float32 policy infers exactly what the original does", () => {
    const policy = dqnPolicy([32, 16], 8);
    const decoded = decodePolicy(encodePolicy(policy));
    const q1 = compileInference(policy.model);
    const q2 = compileInference(decoded.model);
    fc.assert(
      fc.property(contextArb, (c) => {
        const f = encodeFeatures(DEFAULT_COMPILED_SPEC, c);
        expect([...q2(f, 0)]).toEqual([...q1(f, 0)]);
      }),
      { numRuns: 50 },
    );
  });
});

describe("qtable inference", () => {
  const stateCount = 5;
  const actions = 3;
  const model: PolicyModel = {
    algorithm: "qtable",
    stateCount,
    q: Float32Array.from({ length: stateCount * actions }, (_, i) => Math.floor(i / actions) * 10 + (i % actions)),
  };
  const q = compileInference(model);
  const noFeatures = new Float32Array(0);

  test("returns the row of the state key", () => {
    for (let key = 0; key < stateCount; key++)
      expect([...q(noFeatures, key)]).toEqual([key * 10, key * 10 + 1, key * 10 + 2]);
  });

  test("ignores the features", () => {
    expect([...q(Float32Array.of(1, 2, 3), 2)]).toEqual([...q(noFeatures, 2)]);
  });

  test("throws on a state key outside [0, stateCount) or not an integer", () => {
    for (const key of [-1, stateCount, stateCount + 100, 1.5, Number.NaN, Infinity, -Infinity]) {
      expect(() => q(noFeatures, key), String(key)).toThrow(RangeError);
    }
  });

  test("reads the same row from a decoded policy, including at int8 precision", () => {
    const policy = qtablePolicy(4);
    if (policy.model.algorithm !== "qtable") throw new Error("unreachable");
    const original = compileInference(policy.model);
    const exact = compileInference(decodePolicy(encodePolicy(policy)).model);
    const int8 = compileInference(decodePolicy(encodePolicy(policy, "int8")).model);
    let maxAbs = 0;
    for (const v of policy.model.q) maxAbs = Math.max(maxAbs, Math.abs(v));
    for (const key of [0, 1, 17, policy.model.stateCount - 1]) {
      expect([...exact(noFeatures, key)]).toEqual([...original(noFeatures, key)]);
      const a = original(noFeatures, key);
      const b = int8(noFeatures, key);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(maxAbs / 127 / 2 + 1e-6);
    }
  });
});
