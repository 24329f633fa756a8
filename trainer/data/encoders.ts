import { DEFAULT_ACTION_IDS } from "../../shared/catalogue.ts";
import { contextSchema } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey, type CompiledFeatureSpec } from "../../shared/features.ts";

export interface Encoding {
  features: Float32Array;
  stateKey: number;
}

/** Why a raw context could not be encoded: a short reason code, counted in the dataset's skips. */
export interface EncodingFailure {
  error: string;
}

/**
 * Turns a logged raw context into what the learners see. Edge logs use the shared feature spec;
 * imported datasets bring their own encoder (see trainer/data/log-meta.ts for how a file names it).
 */
export interface Encoder {
  /** Identifies the encoding: rows whose `featureSpecHash` equals it can reuse their stored features. */
  hash: string;
  width: number;
  /** Number of distinct state keys (rows of the Q-table). */
  stateCount: number;
  slotNames: readonly string[];
  /** Action ids, in policy order. */
  actions: readonly string[];
  encode(rawContext: unknown): Encoding | EncodingFailure;
}

/** The edge's own encoding: a {@link Context} through a compiled feature spec. */
export function contextEncoder(compiled: CompiledFeatureSpec, actions: readonly string[]): Encoder {
  return {
    hash: compiled.hash,
    width: compiled.width,
    stateCount: compiled.stateCount,
    slotNames: compiled.slotNames,
    actions,
    encode(rawContext) {
      const parsed = contextSchema.safeParse(rawContext);
      if (!parsed.success) return { error: "context-invalid" };
      return { features: encodeFeatures(compiled, parsed.data), stateKey: stateKey(compiled, parsed.data) };
    },
  };
}

/** What the edge runs today: the default feature spec over the default catalogue. */
export const DEFAULT_ENCODER: Encoder = contextEncoder(DEFAULT_COMPILED_SPEC, DEFAULT_ACTION_IDS);
