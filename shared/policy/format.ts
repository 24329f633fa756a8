import { crc32, utf8 } from "../hash.ts";
import type { DenseLayer, Exploration, Policy, PolicyMeta, PolicyModel, Precision, TrainedPromotion } from "./types.ts";

/**
 * Binary policy format, little-endian:
 *
 *   "EPRM" | u16 format version | u16 reserved | u32 header length | u32 total length
 *   | header JSON (UTF-8) | zero padding to 4 bytes | tensors, each padded to 4 bytes
 *   | u32 CRC-32 of everything before it
 *
 * The header lists the tensors in order with their shape, dtype and (int8) scale.
 *
 * The total length sits in the fixed prefix so that a reader can tell a cut file (`truncated`) from a
 * damaged one (`checksum_mismatch`) without trusting anything the checksum has not yet covered: only
 * the magic, the format version and the total length are read before the CRC is verified.
 */
export const POLICY_MAGIC = "EPRM";
export const POLICY_FORMAT_VERSION = 2;

/** Bytes before the header JSON: magic, version, reserved, header length, total length. */
const PREFIX_BYTES = 16;
const CRC_BYTES = 4;

export type PolicyFormatErrorCause =
  | "truncated"
  | "bad_magic"
  | "unsupported_version"
  | "checksum_mismatch"
  | "bad_header"
  | "shape_mismatch"
  | "spec_mismatch"
  | "action_mismatch"
  | "non_finite";

export class PolicyFormatError extends Error {
  override readonly name = "PolicyFormatError";
  readonly reason: PolicyFormatErrorCause;
  constructor(reason: PolicyFormatErrorCause, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

interface TensorDescriptor {
  name: string;
  shape: number[];
  dtype: Precision;
  /** int8 only: real value = stored int × scale. */
  scale?: number;
}

/** A features policy's promotion table, as the header holds it. */
interface SerializedPromotion {
  id: string;
  features: number[];
  decisions: number;
}

interface SerializedHeader extends PolicyMeta {
  algorithm: PolicyModel["algorithm"];
  precision: Precision;
  stateCount?: number;
  /** features only: layers of the visitor tower, whose tensors come first, then the promotion tower's. */
  visitorLayers?: number;
  promotionEncoding?: string;
  promotions?: SerializedPromotion[];
  tensors: TensorDescriptor[];
}

interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Biases stay float32 at int8 precision: they are few and carry the offsets. */
  quantizable: boolean;
}

function tensorsOf(model: PolicyModel): NamedTensor[] {
  if (model.algorithm === "qtable") {
    const actions = model.q.length / model.stateCount;
    if (!Number.isInteger(actions) || actions < 1) {
      throw new RangeError(`a qtable of ${model.q.length} values cannot have ${model.stateCount} rows`);
    }
    return [{ name: "q", shape: [model.stateCount, actions], data: model.q, quantizable: true }];
  }
  if (model.algorithm === "features") {
    return [...layerTensors(model.visitor, "visitor"), ...layerTensors(model.promotion, "promotion")];
  }
  return layerTensors(model.layers, "dense");
}

function layerTensors(layers: readonly DenseLayer[], prefix: string): NamedTensor[] {
  return layers.flatMap((layer, i) => [
    { name: `${prefix}_${i}/kernel`, shape: [layer.inputs, layer.outputs], data: layer.kernel, quantizable: true },
    { name: `${prefix}_${i}/bias`, shape: [layer.outputs], data: layer.bias, quantizable: false },
  ]);
}

/** What the header says beyond the meta for each algorithm. */
function modelHeader(
  model: PolicyModel,
): Pick<SerializedHeader, "stateCount" | "visitorLayers" | "promotionEncoding" | "promotions"> {
  switch (model.algorithm) {
    case "qtable":
      return { stateCount: model.stateCount };
    case "dqn":
      return {};
    case "features":
      return {
        visitorLayers: model.visitor.length,
        promotionEncoding: model.promotionEncoding,
        promotions: model.promotions.map((p) => ({
          id: p.id,
          features: Array.from(p.features),
          decisions: p.decisions,
        })),
      };
  }
}

const align4 = (n: number) => (n + 3) & ~3;

/** Symmetric per-tensor int8 quantisation: the largest magnitude maps to ±127. */
export function quantizeInt8(data: Float32Array): { values: Int8Array; scale: number } {
  let maxAbs = 0;
  for (const v of data) maxAbs = Math.max(maxAbs, Math.abs(v));
  const scale = maxAbs > 0 ? maxAbs / 127 : 1;
  const values = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) values[i] = Math.round(data[i]! / scale);
  return { values, scale };
}

/** Serialises a policy. Throws a RangeError for a non-finite weight: a diverged model must not ship. */
export function encodePolicy(policy: Policy, precision: Precision = "float32"): Uint8Array {
  const tensors = tensorsOf(policy.model);
  for (const t of tensors) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad !== -1) throw new RangeError(`tensor ${t.name} has a non-finite weight (${t.data[bad]}) at ${bad}`);
  }
  const payloads: Uint8Array[] = [];
  const descriptors: TensorDescriptor[] = tensors.map((t) => {
    if (precision === "int8" && t.quantizable) {
      const { values, scale } = quantizeInt8(t.data);
      payloads.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      return { name: t.name, shape: t.shape, dtype: "int8", scale };
    }
    payloads.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    return { name: t.name, shape: t.shape, dtype: "float32" };
  });
  const header: SerializedHeader = {
    ...policy.meta,
    algorithm: policy.model.algorithm,
    precision,
    ...modelHeader(policy.model),
    tensors: descriptors,
  };
  const headerBytes = utf8(JSON.stringify(header));
  const bodyStart = align4(PREFIX_BYTES + headerBytes.length);
  const total = payloads.reduce((n, p) => n + align4(p.length), bodyStart) + CRC_BYTES;

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(utf8(POLICY_MAGIC), 0);
  view.setUint16(4, POLICY_FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  view.setUint32(12, total, true);
  bytes.set(headerBytes, PREFIX_BYTES);
  let offset = bodyStart;
  for (const payload of payloads) {
    bytes.set(payload, offset);
    offset += align4(payload.length);
  }
  view.setUint32(total - CRC_BYTES, crc32(bytes.subarray(0, total - CRC_BYTES)), true);
  return bytes;
}

export interface DecodeExpectations {
  featureSpecHash?: string;
  actions?: readonly string[];
}

/**
 * Decodes and verifies a policy. Throws {@link PolicyFormatError} naming the first problem found.
 *
 * Order of checks: magic, length (cut files are `truncated`), format version, CRC (any damaged byte
 * past the magic, version and total length is a `checksum_mismatch`), then the header's content,
 * shapes, and the caller's expectations.
 */
export function decodePolicy(bytes: Uint8Array, expect: DecodeExpectations = {}): Policy {
  const magic = utf8(POLICY_MAGIC);
  for (let i = 0; i < Math.min(magic.length, bytes.length); i++) {
    if (bytes[i] !== magic[i]) throw new PolicyFormatError("bad_magic", "not an edge-promo policy");
  }
  if (bytes.length < PREFIX_BYTES + CRC_BYTES) {
    throw new PolicyFormatError("truncated", `${bytes.length} bytes is shorter than any policy`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = view.getUint16(4, true);
  if (formatVersion !== POLICY_FORMAT_VERSION) {
    throw new PolicyFormatError(
      "unsupported_version",
      `format version ${formatVersion}, this build reads ${POLICY_FORMAT_VERSION}`,
    );
  }
  const total = view.getUint32(12, true);
  if (bytes.length < total) throw new PolicyFormatError("truncated", `${bytes.length} bytes, the policy says ${total}`);
  if (bytes.length > total) {
    throw new PolicyFormatError("shape_mismatch", `${bytes.length - total} bytes more than the policy says it has`);
  }
  const storedCrc = view.getUint32(total - CRC_BYTES, true);
  if (crc32(bytes.subarray(0, total - CRC_BYTES)) !== storedCrc) {
    throw new PolicyFormatError("checksum_mismatch", "CRC-32 does not match the content");
  }

  // Everything below is covered by the CRC: a failure here is a writer's bug, not damage in transit.
  const headerLength = view.getUint32(8, true);
  if (PREFIX_BYTES + headerLength + CRC_BYTES > total) {
    throw new PolicyFormatError("bad_header", `header of ${headerLength} bytes runs past the end`);
  }
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  const bodyStart = align4(PREFIX_BYTES + headerLength);
  const expectedLength = header.tensors.reduce(
    (n, t) => n + align4(elementCount(t.shape) * (t.dtype === "int8" ? 1 : 4)),
    bodyStart + CRC_BYTES,
  );
  if (total !== expectedLength) {
    throw new PolicyFormatError(
      "shape_mismatch",
      `the policy has ${total} bytes, its header describes ${expectedLength}`,
    );
  }
  if (expect.featureSpecHash !== undefined && header.featureSpecHash !== expect.featureSpecHash) {
    throw new PolicyFormatError(
      "spec_mismatch",
      `policy was trained on feature spec ${header.featureSpecHash}, this side runs ${expect.featureSpecHash}`,
    );
  }
  // A features policy scores promotions by their attributes: the catalogue may differ from the one it was trained on.
  if (expect.actions !== undefined && header.algorithm !== "features" && !sameStrings(header.actions, expect.actions)) {
    throw new PolicyFormatError(
      "action_mismatch",
      `policy actions [${header.actions}] differ from the catalogue [${expect.actions}]`,
    );
  }

  let offset = bodyStart;
  const data = header.tensors.map((t) => {
    const n = elementCount(t.shape);
    if (t.dtype === "int8") {
      const out = new Float32Array(n);
      const scale = t.scale ?? Number.NaN;
      const stored = new Int8Array(bytes.buffer, bytes.byteOffset + offset, n);
      for (let i = 0; i < n; i++) out[i] = stored[i]! * scale;
      offset += align4(n);
      return out;
    }
    // Every platform Workers and the trainer run on is little-endian, so the bytes copy as they are.
    const out = new Float32Array(bytes.slice(offset, offset + 4 * n).buffer);
    offset += 4 * n;
    // A NaN or an infinity here would turn every probability into NaN at the edge: the checksum
    // only proves the bytes are the ones written, not that what was written is a usable model.
    const bad = out.findIndex((v) => !Number.isFinite(v));
    if (bad !== -1) throw new PolicyFormatError("non_finite", `tensor ${t.name} holds ${out[bad]} at ${bad}`);
    return out;
  });

  const {
    algorithm,
    precision: _precision,
    stateCount,
    visitorLayers,
    promotionEncoding,
    promotions,
    tensors,
    ...meta
  } = header;
  if (algorithm === "features") {
    return {
      meta,
      model: buildFeaturesModel(visitorLayers, promotionEncoding, promotions, tensors, data, meta.actions),
    };
  }
  return { meta, model: buildModel(algorithm, stateCount, tensors, data, meta.actions.length) };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function buildModel(
  algorithm: "qtable" | "dqn",
  stateCount: number | undefined,
  tensors: TensorDescriptor[],
  data: Float32Array[],
  actionCount: number,
): PolicyModel {
  if (algorithm === "qtable") {
    const q = data[0];
    const shape = tensors[0]?.shape;
    if (
      tensors.length !== 1 ||
      !q ||
      stateCount === undefined ||
      shape?.length !== 2 ||
      shape[0] !== stateCount ||
      shape[1] !== actionCount
    ) {
      throw new PolicyFormatError("shape_mismatch", `a qtable needs one [${stateCount}, ${actionCount}] tensor`);
    }
    return { algorithm, stateCount, q };
  }
  const layers = denseLayers("a dqn", tensors, data);
  if (layers.at(-1)!.outputs !== actionCount) {
    throw new PolicyFormatError(
      "shape_mismatch",
      `last layer has ${layers.at(-1)!.outputs} outputs for ${actionCount} actions`,
    );
  }
  return { algorithm, layers };
}

/** Kernel/bias pairs that chain into an MLP; `what` names the network in errors. */
function denseLayers(what: string, tensors: readonly TensorDescriptor[], data: readonly Float32Array[]): DenseLayer[] {
  if (tensors.length === 0 || tensors.length % 2 !== 0) {
    throw new PolicyFormatError("shape_mismatch", `${what} needs kernel/bias pairs, got ${tensors.length} tensors`);
  }
  const layers: DenseLayer[] = [];
  for (let i = 0; i < tensors.length; i += 2) {
    const kernelShape = tensors[i]!.shape;
    const biasShape = tensors[i + 1]!.shape;
    if (kernelShape.length !== 2 || biasShape.length !== 1) {
      throw new PolicyFormatError("shape_mismatch", `${what}: layer ${i / 2} needs a 2-d kernel and a 1-d bias`);
    }
    const [inputs, outputs] = kernelShape as [number, number];
    const previous = layers.at(-1);
    if (biasShape[0] !== outputs || (previous && previous.outputs !== inputs)) {
      throw new PolicyFormatError(
        "shape_mismatch",
        `${what}: layer ${i / 2} has shape [${inputs}, ${outputs}] that does not chain`,
      );
    }
    layers.push({ inputs, outputs, kernel: data[i]!, bias: data[i + 1]! });
  }
  return layers;
}

function buildFeaturesModel(
  visitorLayers: number | undefined,
  promotionEncoding: string | undefined,
  promotions: SerializedPromotion[] | undefined,
  tensors: TensorDescriptor[],
  data: Float32Array[],
  actions: readonly string[],
): PolicyModel {
  if (visitorLayers === undefined || promotionEncoding === undefined || promotions === undefined) {
    throw new PolicyFormatError(
      "bad_header",
      "a features policy needs visitorLayers, promotionEncoding and promotions",
    );
  }
  const split = 2 * visitorLayers;
  const visitor = denseLayers("the visitor tower", tensors.slice(0, split), data.slice(0, split));
  const promotion = denseLayers("the promotion tower", tensors.slice(split), data.slice(split));
  const embedding = visitor.at(-1)!.outputs;
  if (promotion.at(-1)!.outputs !== embedding + 1) {
    throw new PolicyFormatError(
      "shape_mismatch",
      `the promotion tower gives ${promotion.at(-1)!.outputs} outputs for a visitor embedding of ${embedding} (needs ${embedding + 1})`,
    );
  }
  const width = promotion[0]!.inputs;
  if (
    promotions.length !== actions.length ||
    promotions.some((p, i) => p.id !== actions[i] || p.features.length !== width)
  ) {
    throw new PolicyFormatError(
      "shape_mismatch",
      `the promotion table must list the actions [${actions}] in order, each with ${width} features`,
    );
  }
  const trained: TrainedPromotion[] = promotions.map((p) => ({
    id: p.id,
    features: Float32Array.from(p.features),
    decisions: p.decisions,
  }));
  return { algorithm: "features", promotionEncoding, visitor, promotion, promotions: trained };
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function parseHeader(bytes: Uint8Array): SerializedHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (error) {
    throw new PolicyFormatError("bad_header", `header is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isSerializedHeader(parsed)) throw new PolicyFormatError("bad_header", "header lacks required fields");
  return parsed;
}

function isSerializedHeader(value: unknown): value is SerializedHeader {
  if (!value || typeof value !== "object") return false;
  const h = value as Partial<SerializedHeader>;
  const validTensor = (t: Partial<TensorDescriptor>) =>
    typeof t.name === "string" &&
    Array.isArray(t.shape) &&
    t.shape.every((d) => Number.isInteger(d) && d > 0) &&
    (t.dtype === "float32" ||
      (t.dtype === "int8" && typeof t.scale === "number" && Number.isFinite(t.scale) && t.scale > 0));
  return (
    typeof h.version === "string" &&
    typeof h.featureSpecHash === "string" &&
    Array.isArray(h.actions) &&
    h.actions.length > 0 &&
    h.actions.every((a) => typeof a === "string") &&
    (h.algorithm === "qtable" || h.algorithm === "dqn" || h.algorithm === "features") &&
    (h.visitorLayers === undefined || (Number.isInteger(h.visitorLayers) && h.visitorLayers > 0)) &&
    (h.promotionEncoding === undefined || typeof h.promotionEncoding === "string") &&
    (h.promotions === undefined || (Array.isArray(h.promotions) && h.promotions.every(isSerializedPromotion))) &&
    (h.precision === "float32" || h.precision === "int8") &&
    isExploration(h.exploration) &&
    typeof h.createdAt === "string" &&
    (h.training === null || (typeof h.training === "object" && !Array.isArray(h.training))) &&
    Array.isArray(h.tensors) &&
    h.tensors.every(validTensor)
  );
}

function isSerializedPromotion(value: unknown): value is SerializedPromotion {
  if (!value || typeof value !== "object") return false;
  const p = value as Partial<SerializedPromotion>;
  return (
    typeof p.id === "string" &&
    Array.isArray(p.features) &&
    p.features.every((x) => typeof x === "number" && Number.isFinite(x)) &&
    typeof p.decisions === "number" &&
    Number.isInteger(p.decisions) &&
    p.decisions >= 0
  );
}

/** A usable exploration rule: probabilities and a floor in [0, 1], a finite positive temperature. */
function isExploration(value: unknown): value is Exploration {
  if (!value || typeof value !== "object") return false;
  const e = value as { type?: unknown; epsilon?: unknown; temperature?: unknown; floor?: unknown };
  const unit = (x: unknown) => typeof x === "number" && x >= 0 && x <= 1;
  if (!unit(e.floor)) return false;
  if (e.type === "epsilon") return unit(e.epsilon);
  if (e.type === "softmax")
    return typeof e.temperature === "number" && Number.isFinite(e.temperature) && e.temperature > 0;
  return false;
}
