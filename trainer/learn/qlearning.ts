import type { Policy, PolicyMeta } from "../../shared/policy/types.ts";
import type { Dataset } from "../data/dataset.ts";
import { transitionColumns, type TransitionColumns } from "../data/transitions.ts";

/**
 * Tabular Q-learning over state keys, as offline sweeps over the logged steps.
 *
 * Every (state, action) pair starts at Q = 0 and a pair the logs never took stays there: "no
 * evidence" reads as "worth nothing", the value of showing nothing to a visitor who buys nothing.
 * Greedy ties go to the lowest action index, so a state never seen at all serves action 0 ("none").
 */

/**
 * How far one update moves Q(s, a) towards its target.
 *
 * - A number α ∈ (0, 1]: classic incremental Q-learning; targets read the live table.
 * - `"sample-average"`: α = 1/n, n counting the pair's visits within the sweep, and targets read the
 *   table as it stood when the sweep began. Each sweep then sets Q(s, a) to the mean of its targets,
 *   an exact Bellman backup on the empirical MDP, so the sweeps converge (a γ-contraction) to the
 *   Q* of the logged data with no step-size noise. With γ = 0, Q is the mean reward per pair.
 */
export type StepSize = number | "sample-average";

export interface QLearningOptions {
  gamma: number;
  alpha: StepSize;
  /** Converged when no Q-value moves more than this over a whole sweep. */
  tolerance: number;
  maxSweeps: number;
  /** Called after every sweep, for progress output. */
  onSweep?: (stats: SweepStats) => void;
}

export const DEFAULT_QLEARNING_OPTIONS: QLearningOptions = {
  gamma: 0.9,
  alpha: "sample-average",
  tolerance: 1e-4,
  maxSweeps: 500,
};

export interface SweepStats {
  sweep: number;
  /** Largest |Q_after − Q_before| of any pair over the sweep. */
  maxDelta: number;
  /** Mean Q over the pairs the logs visited (unvisited ones are the constant 0). */
  meanQ: number;
}

export interface QLearningResult {
  /** Row-major [stateCount][actionCount]. */
  q: Float32Array;
  stateCount: number;
  actionCount: number;
  /** Times each pair occurs in the data; 0 marks a Q-value that is only the initial 0. */
  visits: Uint32Array;
  sweeps: number;
  converged: boolean;
  history: SweepStats[];
  /** Steps processed per second of sweeping, extraction excluded. */
  transitionsPerSecond: number;
}

export function learnQTable(dataset: Dataset, options: Partial<QLearningOptions> = {}): QLearningResult {
  return learnQTableFromColumns(transitionColumns(dataset), { ...DEFAULT_QLEARNING_OPTIONS, ...options });
}

export function learnQTableFromColumns(columns: TransitionColumns, options: QLearningOptions): QLearningResult {
  const { gamma, alpha, tolerance, maxSweeps } = options;
  if (!(gamma >= 0 && gamma < 1)) throw new RangeError(`gamma ${gamma} must lie in [0, 1)`);
  if (alpha !== "sample-average" && !(alpha > 0 && alpha <= 1))
    throw new RangeError(`alpha ${alpha} must lie in (0, 1]`);
  if (!(Number.isInteger(maxSweeps) && maxSweeps > 0))
    throw new RangeError(`maxSweeps must be a positive integer, got ${maxSweeps}`);

  const { stateCount, actionCount } = columns;
  const cells = stateCount * actionCount;
  // Float64 while learning: a million small increments would drift in float32.
  const q = new Float64Array(cells);
  const before = new Float64Array(cells);
  const visits = countVisits(columns);
  const visitsThisSweep = new Uint32Array(cells);

  const history: SweepStats[] = [];
  let converged = false;
  let seconds = 0;
  while (history.length < maxSweeps && !converged) {
    const started = performance.now();
    before.set(q);
    if (alpha === "sample-average") {
      visitsThisSweep.fill(0);
      sweep(columns, gamma, q, before, (cell) => 1 / ++visitsThisSweep[cell]!);
    } else {
      sweep(columns, gamma, q, q, () => alpha);
    }
    seconds += (performance.now() - started) / 1000;

    const stats = { sweep: history.length + 1, ...sweepChange(q, before, visits) };
    history.push(stats);
    options.onSweep?.(stats);
    converged = stats.maxDelta < tolerance;
  }

  return {
    q: Float32Array.from(q),
    stateCount,
    actionCount,
    visits,
    sweeps: history.length,
    converged,
    history,
    // A sweep over a handful of steps can finish inside one timer tick.
    transitionsPerSecond: seconds > 0 ? (history.length * columns.state.length) / seconds : Number.POSITIVE_INFINITY,
  };
}

/**
 * One pass over every step: Q(s, a) += rate · (r + γ · max over the next state's eligible actions
 * of Q(s', ·) − Q(s, a)), the max counting 0 when the step is terminal. `bootstrap` is the table the
 * max reads; ineligible next actions are skipped because the edge can never take them there.
 */
function sweep(
  columns: TransitionColumns,
  gamma: number,
  q: Float64Array,
  bootstrap: Float64Array,
  rateOf: (cell: number) => number,
): void {
  const { state, action, reward, next, stateKey, eligible, actionCount } = columns;
  const steps = state.length;
  for (let i = 0; i < steps; i++) {
    let target = reward[i]!;
    const nextState = next[i]!;
    if (nextState >= 0 && gamma !== 0) {
      const nextRow = stateKey[nextState]! * actionCount;
      const mask = nextState * actionCount;
      let best = Number.NEGATIVE_INFINITY;
      for (let a = 0; a < actionCount; a++) {
        if (eligible[mask + a] !== 0 && bootstrap[nextRow + a]! > best) best = bootstrap[nextRow + a]!;
      }
      // A next state with nothing eligible cannot act again: it is terminal in effect.
      if (best !== Number.NEGATIVE_INFINITY) target += gamma * best;
    }
    const cell = stateKey[state[i]!]! * actionCount + action[i]!;
    q[cell]! += rateOf(cell) * (target - q[cell]!);
  }
}

function countVisits(columns: TransitionColumns): Uint32Array {
  const visits = new Uint32Array(columns.stateCount * columns.actionCount);
  for (let i = 0; i < columns.state.length; i++) {
    visits[columns.stateKey[columns.state[i]!]! * columns.actionCount + columns.action[i]!]!++;
  }
  return visits;
}

function sweepChange(q: Float64Array, before: Float64Array, visits: Uint32Array): Omit<SweepStats, "sweep"> {
  let maxDelta = 0;
  let sum = 0;
  let visited = 0;
  for (let cell = 0; cell < q.length; cell++) {
    maxDelta = Math.max(maxDelta, Math.abs(q[cell]! - before[cell]!));
    if (visits[cell] !== 0) {
      sum += q[cell]!;
      visited++;
    }
  }
  return { maxDelta, meanQ: visited > 0 ? sum / visited : 0 };
}

/** The learned table as a shared policy, ready for {@link exportPolicy}. */
export function qtableToPolicy(result: QLearningResult, meta: PolicyMeta): Policy {
  if (meta.actions.length !== result.actionCount) {
    throw new RangeError(`policy names ${meta.actions.length} actions, the Q-table has ${result.actionCount}`);
  }
  return { meta, model: { algorithm: "qtable", stateCount: result.stateCount, q: result.q } };
}
