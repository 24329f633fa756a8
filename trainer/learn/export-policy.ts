import * as tf from "@tensorflow/tfjs";
import { greedyAction } from "../../shared/policy/explore.ts";
import { decodePolicy, encodePolicy } from "../../shared/policy/format.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Policy, Precision } from "../../shared/policy/types.ts";
import type { LoggedState } from "../data/dataset.ts";
import { createRng, sampleIndices } from "../../shared/rng.ts";

/** The policy in the binary format the edge loads. */
export function exportPolicy(policy: Policy, precision: Precision): Uint8Array {
  return encodePolicy(policy, precision);
}

/** Q-values of the trained model for a batch of states, row-major [state][action]. */
export type ReferenceQ = (states: readonly LoggedState[]) => Float32Array;

/** The trained network, evaluated by tfjs itself. */
export function tfjsReference(network: tf.LayersModel): ReferenceQ {
  return (states) =>
    tf.tidy(() => {
      const width = states[0]?.features.length ?? 0;
      const input = new Float32Array(states.length * width);
      states.forEach((state, row) => input.set(state.features, row * width));
      const q = network.predict(tf.tensor2d(input, [states.length, width])) as tf.Tensor2D;
      return new Float32Array(q.dataSync());
    });
}

/** The trained Q-table, row-major [stateCount][actionCount]. */
export function qtableReference(q: Float32Array, actionCount: number): ReferenceQ {
  return (states) => {
    const out = new Float32Array(states.length * actionCount);
    states.forEach((state, row) =>
      out.set(q.subarray(state.stateKey * actionCount, (state.stateKey + 1) * actionCount), row * actionCount),
    );
    return out;
  };
}

export interface ParityReport {
  /** Logged states compared. */
  states: number;
  /** Largest |Q_exported − Q_trained| over every action of every compared state. */
  maxAbsDiff: number;
  /** Share of states where both pick the same greedy action among the eligible ones. */
  agreement: number;
  /** The least agreement that passes. */
  required: number;
}

export class ParityError extends Error {
  override readonly name = "ParityError";
  readonly report: ParityReport;
  constructor(report: ParityReport) {
    super(
      `exported policy fails parity: it picks the trained model's action in ${(100 * report.agreement).toFixed(2)}% ` +
        `of ${report.states} logged states (needs ${(100 * report.required).toFixed(2)}%), max |ΔQ| ${report.maxAbsDiff.toPrecision(3)}`,
    );
    this.report = report;
  }
}

export interface ParityOptions {
  /** Most logged states to compare; a seeded sample when there are more. */
  sampleSize?: number;
  seed?: number;
  /** Least argmax agreement that passes. */
  required?: number;
}

/**
 * Checks that the exported bytes make the decisions the trained model makes: decodes them exactly
 * as the edge does (so int8 rounding is included), runs the shared inference, and compares it with
 * the reference on a sample of logged states. Q-values may drift within quantisation error; what
 * must hold is the greedy choice among eligible actions, since that is what visitors see.
 * Throws {@link ParityError} below the required agreement, or when any Q-value is not finite.
 */
export function checkParity(
  bytes: Uint8Array,
  reference: ReferenceQ,
  states: readonly LoggedState[],
  options: ParityOptions = {},
): ParityReport {
  const { sampleSize = 2000, seed = 1, required = 0.995 } = options;
  if (states.length === 0) throw new RangeError("no logged states to check parity on");
  const policy = decodePolicy(bytes);
  const exported = compileInference(policy.model);
  const actionCount = policy.meta.actions.length;

  const sample = Array.from(sampleIndices(createRng(seed), states.length, sampleSize), (i) => states[i]!);
  const trained = reference(sample);
  let maxAbsDiff = 0;
  let agreeing = 0;
  sample.forEach((state, row) => {
    const expected = trained.subarray(row * actionCount, (row + 1) * actionCount);
    const actual = exported(state.features, state.stateKey);
    // Math.max propagates NaN, so a non-finite Q anywhere shows in the report and fails the check.
    for (let a = 0; a < actionCount; a++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(actual[a]! - expected[a]!));
    if (greedyAction(actual, state.eligible) === greedyAction(expected, state.eligible)) agreeing++;
  });

  const report: ParityReport = { states: sample.length, maxAbsDiff, agreement: agreeing / sample.length, required };
  if (!(report.agreement >= required && Number.isFinite(maxAbsDiff))) throw new ParityError(report);
  return report;
}
