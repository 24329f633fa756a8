import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { crc32, utf8 } from "../../shared/hash.ts";
import {
  decodePolicy,
  encodePolicy,
  POLICY_FORMAT_VERSION,
  POLICY_MAGIC,
  PolicyFormatError,
  quantizeInt8,
  type DecodeExpectations,
  type PolicyFormatErrorCause,
} from "../../shared/policy/format.ts";
import type { DenseLayer, Policy } from "../../shared/policy/types.ts";
import { bytesOf, dqnPolicy, featuresPolicy, makeMeta, qtablePolicy, reasonOf } from "./helpers.ts";

/* Layout constants, restated here on purpose: the byte layout is itself a contract. */
const PREFIX = 16;
const align4 = (n: number) => (n + 3) & ~3;

function expectReason(bytes: Uint8Array, reason: PolicyFormatErrorCause, expect_: DecodeExpectations = {}) {
  let caught: unknown;
  try {
    decodePolicy(bytes, expect_);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PolicyFormatError);
  expect((caught as PolicyFormatError).reason).toBe(reason);
  expect((caught as PolicyFormatError).name).toBe("PolicyFormatError");
  expect((caught as PolicyFormatError).message.startsWith(`${reason}: `)).toBe(true);
}

/** Splits an encoded policy into its header (parsed) and tensor bytes. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; body: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX, PREFIX + headerLength))) as Record<
    string,
    unknown
  >;
  return { header, body: bytes.slice(align4(PREFIX + headerLength), bytes.length - 4) };
}

/** Builds a well-formed file (right lengths, right CRC) around any header text and body. */
function assemble(headerText: string | Uint8Array, body: Uint8Array, version = POLICY_FORMAT_VERSION): Uint8Array {
  const header = typeof headerText === "string" ? utf8(headerText) : headerText;
  const bodyStart = align4(PREFIX + header.length);
  const total = bodyStart + body.length + 4;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(utf8(POLICY_MAGIC), 0);
  view.setUint16(4, version, true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, total, true);
  bytes.set(header, PREFIX);
  bytes.set(body, bodyStart);
  view.setUint32(total - 4, crc32(bytes.subarray(0, total - 4)), true);
  return bytes;
}

function rewriteHeader(bytes: Uint8Array, change: (header: Record<string, unknown>) => void): Uint8Array {
  const { header, body } = split(bytes);
  change(header);
  return assemble(JSON.stringify(header), body);
}

const POLICIES: [string, Policy][] = [
  ["qtable", qtablePolicy(11)],
  ["dqn, 1 dense layer", dqnPolicy([], 12)],
  ["dqn, 2 dense layers", dqnPolicy([32], 13)],
  ["dqn, 3 dense layers", dqnPolicy([64, 16], 14)],
  ["features, towers of 2 layers", featuresPolicy(15)],
  ["features, towers of 1 and 3 layers", featuresPolicy(16, { visitorHidden: [], promotionHidden: [8, 8] })],
];

function tensors(policy: Policy): { data: Float32Array; quantizable: boolean }[] {
  const m = policy.model;
  if (m.algorithm === "qtable") return [{ data: m.q, quantizable: true }];
  const layers = m.algorithm === "features" ? [...m.visitor, ...m.promotion] : m.layers;
  return layers.flatMap((l) => [
    { data: l.kernel, quantizable: true },
    { data: l.bias, quantizable: false },
  ]);
}

describe("policy format round trip", () => {
  test.each(POLICIES)("%s survives float32 encoding bit for bit", (_name, policy) => {
    const bytes = encodePolicy(policy);
    expect(bytes.length % 4).toBe(0);
    const decoded = decodePolicy(bytes, { featureSpecHash: DEFAULT_COMPILED_SPEC.hash, actions: DEFAULT_ACTION_IDS });
    expect(decoded.meta).toEqual(policy.meta);
    expect(decoded.model.algorithm).toBe(policy.model.algorithm);
    if (policy.model.algorithm === "qtable" && decoded.model.algorithm === "qtable") {
      expect(decoded.model.stateCount).toBe(policy.model.stateCount);
    }
    if (policy.model.algorithm === "features" && decoded.model.algorithm === "features") {
      expect(decoded.model.promotionEncoding).toBe(policy.model.promotionEncoding);
      expect(decoded.model.promotions).toEqual(policy.model.promotions);
      expect(decoded.model.visitor.map((l) => [l.inputs, l.outputs])).toEqual(
        policy.model.visitor.map((l) => [l.inputs, l.outputs]),
      );
    }
    if (policy.model.algorithm === "dqn" && decoded.model.algorithm === "dqn") {
      expect(decoded.model.layers.map((l) => [l.inputs, l.outputs])).toEqual(
        policy.model.layers.map((l) => [l.inputs, l.outputs]),
      );
    }
    const before = tensors(policy);
    const after = tensors(decoded);
    expect(after).toHaveLength(before.length);
    before.forEach((t, i) => {
      expect(after[i]!.data).toBeInstanceOf(Float32Array);
      expect(bytesOf(after[i]!.data)).toEqual(bytesOf(t.data));
    });
  });

  test.each(POLICIES)("%s survives int8 encoding within scale/2 per weight (biases exact)", (_name, policy) => {
    const float = encodePolicy(policy);
    const int8 = encodePolicy(policy, "int8");
    expect(int8.length % 4).toBe(0);
    expect(int8.length).toBeLessThan(float.length);
    const decoded = decodePolicy(int8, { featureSpecHash: DEFAULT_COMPILED_SPEC.hash, actions: DEFAULT_ACTION_IDS });
    expect(decoded.meta).toEqual(policy.meta);
    const before = tensors(policy);
    const after = tensors(decoded);
    before.forEach((t, i) => {
      const got = after[i]!.data;
      expect(got.length).toBe(t.data.length);
      if (!t.quantizable) {
        expect(bytesOf(got)).toEqual(bytesOf(t.data));
        return;
      }
      const { scale } = quantizeInt8(t.data);
      let worst = 0;
      const over: number[] = [];
      for (let j = 0; j < got.length; j++) {
        // scale/2 from rounding, plus float32 rounding of the product.
        const error = Math.abs(got[j]! - t.data[j]!);
        if (error > scale / 2 + Math.abs(t.data[j]!) * 2 ** -23) over.push(j);
        worst = Math.max(worst, error);
      }
      expect(over).toEqual([]);
      expect(worst).toBeGreaterThan(0); // it really was quantised
      expect(worst).toBeLessThanOrEqual(scale / 2 + 1e-6);
    });
  });

  test("random float32 weights round trip exactly, including -0, subnormals and extremes", () => {
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
        fc.infiniteStream(finite),
        (sizes, stream) => {
          const it = stream[Symbol.iterator]();
          const take = (n: number) => Float32Array.from({ length: n }, () => it.next().value as number);
          const actions = sizes.at(-1)!;
          const layers: DenseLayer[] = [];
          for (let i = 0; i + 1 < sizes.length; i++) {
            layers.push({
              inputs: sizes[i]!,
              outputs: sizes[i + 1]!,
              kernel: take(sizes[i]! * sizes[i + 1]!),
              bias: take(sizes[i + 1]!),
            });
          }
          const policy: Policy = {
            meta: makeMeta({ actions: Array.from({ length: actions }, (_, i) => `a${i}`), training: null }),
            model: { algorithm: "dqn", layers },
          };
          const decoded = decodePolicy(encodePolicy(policy));
          expect(decoded.meta).toEqual(policy.meta);
          const got = decoded.model.algorithm === "dqn" ? decoded.model.layers : [];
          expect(got).toHaveLength(layers.length);
          layers.forEach((l, i) => {
            expect(bytesOf(got[i]!.kernel)).toEqual(bytesOf(l.kernel));
            expect(bytesOf(got[i]!.bias)).toEqual(bytesOf(l.bias));
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  test("header fields survive: meta, training summary (or null), both exploration rules", () => {
    const variants = [
      makeMeta(),
      makeMeta({ training: null }),
      makeMeta({ exploration: { type: "epsilon", epsilon: 0.1, floor: 0.01 } }),
      makeMeta({ version: "v/ünïcödé ✓", createdAt: "2030-01-01T00:00:00Z" }),
      makeMeta({
        training: {
          dataFrom: "a",
          dataTo: "b",
          decisions: 0,
          transitions: 0,
          gamma: 0,
          backend: "cpu",
          estimate: null,
        },
      }),
    ];
    for (const meta of variants) {
      for (const precision of ["float32", "int8"] as const) {
        const decoded = decodePolicy(encodePolicy(qtablePolicy(3, meta), precision));
        expect(decoded.meta).toEqual(meta);
        expect(decoded.meta.exploration).toEqual(meta.exploration);
        expect(decoded.meta.training).toEqual(meta.training);
      }
    }
  });

  test("decodes from an unaligned view into a larger buffer", () => {
    for (const [, policy] of POLICIES) {
      for (const precision of ["float32", "int8"] as const) {
        const bytes = encodePolicy(policy, precision);
        const host = new Uint8Array(bytes.length + 7);
        host.set(bytes, 3);
        const view = host.subarray(3, 3 + bytes.length);
        expect(decodePolicy(view)).toEqual(decodePolicy(bytes));
      }
    }
  });

  test("encoding is deterministic", () => {
    const policy = dqnPolicy([8], 5);
    expect(encodePolicy(policy)).toEqual(encodePolicy(policy));
    expect(encodePolicy(policy, "int8")).toEqual(encodePolicy(policy, "int8"));
  });

  test("the prefix holds magic, version, header length and total length", () => {
    const bytes = encodePolicy(qtablePolicy(1));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("EPRM");
    expect(view.getUint16(4, true)).toBe(POLICY_FORMAT_VERSION);
    expect(view.getUint16(6, true)).toBe(0);
    expect(view.getUint32(12, true)).toBe(bytes.length);
    expect(view.getUint32(bytes.length - 4, true)).toBe(crc32(bytes.subarray(0, bytes.length - 4)));
    const { header } = split(bytes);
    expect(header.algorithm).toBe("qtable");
    expect(header.precision).toBe("float32");
  });

  test("refuses to encode non-finite weights", () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const q = qtablePolicy(1);
      if (q.model.algorithm === "qtable") q.model.q[17] = bad;
      expect(() => encodePolicy(q)).toThrow(RangeError);
      const d = dqnPolicy([4], 1);
      if (d.model.algorithm === "dqn") d.model.layers[1]!.bias[0] = bad;
      expect(() => encodePolicy(d, "int8")).toThrow(RangeError);
    }
  });

  test("refuses to encode a qtable whose values do not fill its rows", () => {
    const policy: Policy = { meta: makeMeta(), model: { algorithm: "qtable", stateCount: 3, q: new Float32Array(10) } };
    expect(() => encodePolicy(policy)).toThrow(RangeError);
  });
});

describe("quantizeInt8", () => {
  test("maps the largest magnitude to ±127 and keeps every value within scale/2", () => {
    fc.assert(
      fc.property(
        fc.float32Array({
          minLength: 1,
          maxLength: 64,
          noNaN: true,
          noDefaultInfinity: true,
          min: Math.fround(-1e30),
          max: Math.fround(1e30),
        }),
        (data) => {
          const { values, scale } = quantizeInt8(data);
          expect(scale).toBeGreaterThan(0);
          const maxAbs = Math.max(...[...data].map(Math.abs));
          if (maxAbs > 0) expect(Math.max(...[...values].map(Math.abs))).toBe(127);
          for (let i = 0; i < data.length; i++) {
            expect(Math.abs(values[i]! * scale - data[i]!)).toBeLessThanOrEqual(scale / 2 + Math.abs(data[i]!) * 1e-12);
          }
        },
      ),
    );
  });

  test("an all-zero tensor quantises to zeros", () => {
    const { values, scale } = quantizeInt8(new Float32Array(5));
    expect([...values]).toEqual([0, 0, 0, 0, 0]);
    expect(scale).toBe(1);
  });
});

describe("policy format corruption", () => {
  const samples = POLICIES.flatMap(([name, p]) => [
    [`${name} float32`, encodePolicy(p)] as const,
    [`${name} int8`, encodePolicy(p, "int8")] as const,
  ]);
  const small = encodePolicy(qtablePolicy(2, {}, 4));

  test("a cut anywhere is 'truncated' (every cut point of a small policy)", () => {
    for (let cut = 0; cut < small.length; cut++)
      expect(
        reasonOf(() => decodePolicy(small.subarray(0, cut))),
        `cut ${cut}`,
      ).toBe("truncated");
  });

  test("a cut anywhere is 'truncated' (property over cut points)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ([, bytes], at) => {
          const cut = Math.floor(at * bytes.length);
          expect(reasonOf(() => decodePolicy(bytes.slice(0, cut)))).toBe("truncated");
        },
      ),
    );
  });

  test("a damaged byte anywhere past magic, version and total length is a 'checksum_mismatch'", () => {
    const guarded = (i: number) => i < 6 || (i >= 12 && i < 16);
    fc.assert(
      fc.property(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }), ([, original], at, mask) => {
        const index = at % original.length;
        fc.pre(!guarded(index));
        const bytes = original.slice();
        bytes[index]! ^= mask;
        expect(reasonOf(() => decodePolicy(bytes))).toBe("checksum_mismatch");
      }),
      { numRuns: 500 },
    );
  });

  test("every single-bit flip of a small policy is detected with the reason of the field it hits", () => {
    for (let i = 0; i < small.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bytes = small.slice();
        bytes[i]! ^= 1 << bit;
        const reason = reasonOf(() => decodePolicy(bytes));
        if (i < 4) expect(reason, `byte ${i}`).toBe("bad_magic");
        else if (i < 6) expect(reason, `byte ${i}`).toBe("unsupported_version");
        else if (i >= 12 && i < 16) expect(["truncated", "shape_mismatch"], `byte ${i}`).toContain(reason);
        else expect(reason, `byte ${i} bit ${bit}`).toBe("checksum_mismatch");
      }
    }
  });

  test("a header edit that still parses (a digit of a shape) is a checksum_mismatch, not a shape error", () => {
    const bytes = small.slice();
    const text = new TextDecoder().decode(bytes);
    const at = text.indexOf('"shape":[4,');
    expect(at).toBeGreaterThan(0);
    bytes[at + '"shape":['.length] = "5".charCodeAt(0);
    expectReason(bytes, "checksum_mismatch");
    bytes[at + '"shape":['.length] = "3".charCodeAt(0);
    expectReason(bytes, "checksum_mismatch");
  });

  test("a damaged checksum is a checksum_mismatch", () => {
    const bytes = small.slice();
    bytes[bytes.length - 1]! ^= 0x80;
    expectReason(bytes, "checksum_mismatch");
  });

  test("bytes appended after the checksum are refused", () => {
    const bytes = new Uint8Array(small.length + 4);
    bytes.set(small);
    expectReason(bytes, "shape_mismatch");
  });

  test("bad magic", () => {
    const bytes = small.slice();
    bytes.set(utf8("XPRM"), 0);
    expectReason(bytes, "bad_magic");
    expectReason(utf8("<!doctype html><html><body>not found</body></html>"), "bad_magic");
    expectReason(utf8('{"version":"v1"}'), "bad_magic");
    expectReason(utf8("EP"), "truncated");
    expectReason(new Uint8Array(0), "truncated");
  });

  test("a format version other than this build's is unsupported, even with a valid checksum", () => {
    const { header, body } = split(small);
    for (const version of [0, 1, POLICY_FORMAT_VERSION + 1, 0xffff]) {
      if (version === POLICY_FORMAT_VERSION) continue;
      expectReason(assemble(JSON.stringify(header), body, version), "unsupported_version");
    }
    expect(decodePolicy(assemble(JSON.stringify(header), body))).toEqual(decodePolicy(small));
  });

  test("a wrong feature spec hash is a spec_mismatch", () => {
    for (const [, bytes] of samples) {
      expectReason(bytes, "spec_mismatch", { featureSpecHash: "0123456789abcdef" });
      expectReason(bytes, "spec_mismatch", { featureSpecHash: "", actions: DEFAULT_ACTION_IDS });
      expect(() => decodePolicy(bytes, { featureSpecHash: DEFAULT_COMPILED_SPEC.hash })).not.toThrow();
    }
  });

  test("a different action list is an action_mismatch", () => {
    const ids = [...DEFAULT_ACTION_IDS];
    const wrong = [
      ids.slice(0, -1),
      [...ids, "extra"],
      [...ids].reverse(),
      ids.map((id) => (id === "gift" ? "gift2" : id)),
      [],
    ];
    for (const [name, bytes] of samples.filter(([name]) => !name.startsWith("features"))) {
      for (const actions of wrong)
        expect(
          reasonOf(() => decodePolicy(bytes, { actions })),
          name,
        ).toBe("action_mismatch");
      expect(() => decodePolicy(bytes, { actions: ids })).not.toThrow();
    }
  });

  test("a features policy decodes against any action list: it scores promotions by their attributes", () => {
    const bytes = encodePolicy(featuresPolicy(3));
    for (const actions of [["none", "pct15"], [...DEFAULT_ACTION_IDS].reverse(), ["none"]]) {
      expect(decodePolicy(bytes, { actions }).meta.actions).toEqual(DEFAULT_ACTION_IDS);
    }
  });

  test("action lists are compared id by id, not as joined text", () => {
    const policy: Policy = {
      meta: makeMeta({ actions: ["a,b", "c"] }),
      model: { algorithm: "qtable", stateCount: 1, q: new Float32Array(2) },
    };
    const bytes = encodePolicy(policy);
    expectReason(bytes, "action_mismatch", { actions: ["a", "b,c"] });
    expect(decodePolicy(bytes, { actions: ["a,b", "c"] }).meta.actions).toEqual(["a,b", "c"]);
  });

  test("the checksum is checked before the caller's expectations", () => {
    const bytes = small.slice();
    bytes[bytes.length - 9]! ^= 1;
    expectReason(bytes, "checksum_mismatch", { featureSpecHash: "other", actions: ["x"] });
  });
});

describe("policy format: well-checksummed but inconsistent files (writer bugs)", () => {
  const qt = encodePolicy(qtablePolicy(7, {}, 4));
  const dqn = encodePolicy(dqnPolicy([8], 7));
  const features = encodePolicy(featuresPolicy(7));

  test("a header that is not UTF-8 JSON is a bad_header", () => {
    const { body } = split(qt);
    expectReason(assemble("{not json", body), "bad_header");
    const { header } = split(qt);
    const text = utf8(JSON.stringify({ ...header, version: "v_" }));
    text[text.indexOf("_".charCodeAt(0))] = 0xff; // not UTF-8
    expectReason(assemble(text, body), "bad_header");
  });

  test("a header missing or mistyping a required field is a bad_header", () => {
    const edits: [string, (h: Record<string, unknown>) => void][] = [
      ["no version", (h) => delete h.version],
      ["numeric version", (h) => (h.version = 3)],
      ["no spec hash", (h) => delete h.featureSpecHash],
      ["actions not strings", (h) => (h.actions = [1, 2])],
      ["no actions", (h) => (h.actions = [])],
      ["unknown algorithm", (h) => (h.algorithm = "ppo")],
      ["unknown precision", (h) => (h.precision = "float16")],
      ["no exploration", (h) => delete h.exploration],
      ["unknown exploration", (h) => (h.exploration = { type: "thompson", floor: 0 })],
      ["epsilon above 1", (h) => (h.exploration = { type: "epsilon", epsilon: 1.5, floor: 0 })],
      ["negative floor", (h) => (h.exploration = { type: "epsilon", epsilon: 0.1, floor: -0.1 })],
      ["zero temperature", (h) => (h.exploration = { type: "softmax", temperature: 0, floor: 0 })],
      ["no createdAt", (h) => delete h.createdAt],
      ["training not an object", (h) => (h.training = "yesterday")],
      ["tensors not an array", (h) => (h.tensors = {})],
      ["zero dimension", (h) => ((h.tensors as { shape: number[] }[])[0]!.shape = [0, 7])],
      ["int8 without scale", (h) => Object.assign((h.tensors as object[])[0]!, { dtype: "int8" })],
      ["unknown dtype", (h) => Object.assign((h.tensors as object[])[0]!, { dtype: "float64" })],
    ];
    for (const [what, edit] of edits)
      expect(
        reasonOf(() => decodePolicy(rewriteHeader(qt, edit))),
        what,
      ).toBe("bad_header");
    const featureEdits: [string, (h: Record<string, unknown>) => void][] = [
      ["no promotion table", (h) => delete h.promotions],
      ["no promotion encoding", (h) => delete h.promotionEncoding],
      ["no visitor layer count", (h) => delete h.visitorLayers],
      ["zero visitor layers", (h) => (h.visitorLayers = 0)],
      ["a negative decision count", (h) => ((h.promotions as { decisions: number }[])[0]!.decisions = -1)],
      [
        "a promotion feature that is not a number",
        (h) => ((h.promotions as { features: unknown[] }[])[0]!.features = ["x"]),
      ],
    ];
    for (const [what, edit] of featureEdits) {
      expect(
        reasonOf(() => decodePolicy(rewriteHeader(features, edit))),
        what,
      ).toBe("bad_header");
    }
  });

  test("a header length that runs past the end is a bad_header", () => {
    const bytes = qt.slice();
    const view = new DataView(bytes.buffer);
    view.setUint32(8, bytes.length, true);
    view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
    expectReason(bytes, "bad_header");
  });

  test("tensors that do not fill the file, or do not fit the model, are a shape_mismatch", () => {
    const edits: [Uint8Array, string, (h: Record<string, unknown>) => void][] = [
      [qt, "fewer bytes described", (h) => ((h.tensors as { shape: number[] }[])[0]!.shape = [2, 7])],
      [qt, "stateCount differs from the tensor", (h) => (h.stateCount = 5)],
      [qt, "no stateCount", (h) => delete h.stateCount],
      [qt, "action count differs from the tensor", (h) => (h.actions = ["a", "b"])],
      [qt, "rank 3 q tensor", (h) => ((h.tensors as { shape: number[] }[])[0]!.shape = [4, 7, 1])],
      [qt, "two tensors", (h) => (h.tensors = [...(h.tensors as object[]), ...(h.tensors as object[])])],
      [dqn, "last layer outputs differ from the actions", (h) => (h.actions = ["a", "b"])],
      [dqn, "odd tensor count", (h) => (h.tensors = (h.tensors as object[]).slice(0, 3))],
      [
        features,
        "a promotion table shorter than the actions",
        (h) => (h.promotions = (h.promotions as object[]).slice(1)),
      ],
      [features, "a promotion table in another order", (h) => (h.promotions = (h.promotions as object[]).reverse())],
      [
        features,
        "promotion features of the wrong width",
        (h) => ((h.promotions as { features: number[] }[])[2]!.features = [1, 2, 3]),
      ],
      [features, "a visitor tower that takes the promotion tower's first layer", (h) => (h.visitorLayers = 3)],
      [
        features,
        "a visitor tower of one layer, leaving a promotion tower that does not chain",
        (h) => (h.visitorLayers = 1),
      ],
    ];
    for (const [bytes, what, edit] of edits) {
      const { body } = split(bytes);
      const { header } = split(bytes);
      edit(header);
      // Keep the file self-consistent in length where the edit removed tensors, so that the shape check is what fires.
      expect(
        reasonOf(() => decodePolicy(assemble(JSON.stringify(header), body))),
        what,
      ).toBe("shape_mismatch");
    }
  });

  test("dqn layers that do not chain, or are not kernel/bias pairs, are a shape_mismatch", () => {
    const { header } = split(dqn);
    const build = (shapes: number[][], actions: string[]) => {
      const elements = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
      const tensors = shapes.map((shape, i) => ({ name: `t${i}`, shape, dtype: "float32" }));
      return assemble(JSON.stringify({ ...header, actions, tensors }), new Uint8Array(4 * elements));
    };
    expect(decodePolicy(build([[2, 3], [3], [3, 2], [2]], ["a", "b"])).model.algorithm).toBe("dqn");
    expectReason(build([[2, 3], [3], [4, 2], [2]], ["a", "b"]), "shape_mismatch"); // 3 outputs feed 4 inputs
    expectReason(build([[2, 3], [2], [3, 2], [2]], ["a", "b"]), "shape_mismatch"); // bias of the wrong width
    expectReason(build([[2, 3], [3, 1], [3, 2], [2]], ["a", "b"]), "shape_mismatch"); // 2-d bias
    expectReason(build([[2, 3, 1], [3], [3, 2], [2]], ["a", "b"]), "shape_mismatch"); // 3-d kernel
    expectReason(build([[2, 3], [3], [3, 2], [2]], ["a", "b", "c"]), "shape_mismatch"); // outputs ≠ actions
    expectReason(build([], ["a", "b"]), "shape_mismatch"); // no layers
  });
});
