import type { Dataset } from "./dataset.ts";

/**
 * The steps of a dataset as typed-array columns, extracted once. The learners' hot loops then read
 * flat numeric memory instead of chasing a Step object and its strings per transition.
 */
export interface TransitionColumns {
  actionCount: number;
  stateCount: number;
  /** Per step: index into the dataset's logged states. */
  state: Int32Array;
  action: Int32Array;
  reward: Float64Array;
  /** Per step: index of the next logged state, -1 when terminal. */
  next: Int32Array;
  /** Per logged state: its Q-table row. */
  stateKey: Int32Array;
  /** Per logged state, row-major [state][action]: 1 where the action was eligible. */
  eligible: Uint8Array;
}

/** Extracts the columns, refusing data that would index outside the tables. */
export function transitionColumns(dataset: Dataset): TransitionColumns {
  const actionCount = dataset.actions.length;
  const { stateCount, states, steps } = dataset;

  const stateKey = new Int32Array(states.length);
  const eligible = new Uint8Array(states.length * actionCount);
  states.forEach((logged, i) => {
    if (!(Number.isInteger(logged.stateKey) && logged.stateKey >= 0 && logged.stateKey < stateCount)) {
      throw new RangeError(`logged state ${i} has state key ${logged.stateKey} outside [0, ${stateCount})`);
    }
    if (logged.eligible.length !== actionCount) {
      throw new RangeError(
        `logged state ${i} has ${logged.eligible.length} eligibility flags for ${actionCount} actions`,
      );
    }
    stateKey[i] = logged.stateKey;
    eligible.set(logged.eligible, i * actionCount);
  });

  const state = new Int32Array(steps.length);
  const action = new Int32Array(steps.length);
  const reward = new Float64Array(steps.length);
  const next = new Int32Array(steps.length);
  steps.forEach((step, i) => {
    const inRange = (index: number) => Number.isInteger(index) && index >= 0 && index < states.length;
    if (!inRange(step.state) || !(step.next === -1 || inRange(step.next))) {
      throw new RangeError(`step ${step.decisionId} refers to a state outside the ${states.length} logged ones`);
    }
    if (!(Number.isInteger(step.action) && step.action >= 0 && step.action < actionCount)) {
      throw new RangeError(`step ${step.decisionId} has action ${step.action} outside [0, ${actionCount})`);
    }
    if (!Number.isFinite(step.reward)) throw new RangeError(`step ${step.decisionId} has reward ${step.reward}`);
    state[i] = step.state;
    action[i] = step.action;
    reward[i] = step.reward;
    next[i] = step.next;
  });

  return { actionCount, stateCount, state, action, reward, next, stateKey, eligible };
}

/**
 * γ·G′ per step: the discounted Monte-Carlo return of the same visitor's later decisions (add the
 * step's own reward for its return). A next
 * decision that is not itself a step (held back, younger than the attribution window) ends the
 * return there, for every action alike.
 */
export function laterReturns(columns: TransitionColumns, gamma: number): Float64Array {
  const stepOfState = new Int32Array(columns.stateKey.length).fill(-1);
  columns.state.forEach((state, i) => (stepOfState[state] = i));
  const returns = new Float64Array(columns.state.length);
  const later = new Float64Array(columns.state.length);
  // Steps are ordered by visitor, then time: a step's successor has a larger index.
  for (let i = columns.state.length - 1; i >= 0; i--) {
    const next = columns.next[i]! >= 0 ? stepOfState[columns.next[i]!]! : -1;
    later[i] = next > i ? gamma * returns[next]! : 0;
    returns[i] = columns.reward[i]! + later[i]!;
  }
  return later;
}
