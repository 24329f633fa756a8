/**
 * The trainer's in-memory view of logged data, independent of where it came from (local D1,
 * remote D1, a JSONL export, an imported public dataset, the simulator).
 *
 * States are stored once and referenced by index, because a step's next state is another logged
 * decision's state (the same visitor's next page view), which may itself be held back from training.
 */
export interface LoggedState {
  features: Float32Array;
  stateKey: number;
  /** 1 where the action was eligible at that decision. */
  eligible: Uint8Array;
}

export interface Step {
  /** Index into {@link Dataset.states}. */
  state: number;
  action: number;
  /** Probability with which the logging policy chose `action` (under the eligibility mask). */
  propensity: number;
  reward: number;
  /** Index into {@link Dataset.states} of the same visitor's next decision within the horizon; -1 when terminal. */
  next: number;
  /** Which trajectory (visitor) the step belongs to, for per-decision importance sampling. */
  visitor: string;
  ts: number;
  decisionId: string;
}

/** Rows that could not become steps, by reason. Reported, never dropped silently. */
export type SkipCounts = Record<string, number>;

export interface Dataset {
  actions: readonly string[];
  featureSpecHash: string;
  featureWidth: number;
  stateCount: number;
  /** Names of the feature slots, for reports. */
  slotNames: readonly string[];
  states: LoggedState[];
  /** Ordered by visitor, then time. */
  steps: Step[];
  /** Decisions younger than the attribution window: kept as possible next states, not as steps. */
  heldBack: number;
  skipped: SkipCounts;
  window: { from: number; to: number };
}
