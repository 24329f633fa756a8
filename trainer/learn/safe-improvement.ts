import { DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import type { Exploration } from "../../shared/policy/types.ts";
import { stateKeyBuckets, stateKeyFields, type CompiledFeatureSpec } from "../../shared/features.ts";
import type { Dataset } from "../data/dataset.ts";
import { laterReturns, transitionColumns, type TransitionColumns } from "../data/transitions.ts";
import { greedyAction } from "../../shared/policy/explore.ts";

/**
 * Safe policy improvement over the control, from logs alone: the trainer's default learner.
 *
 * For every state key and promotion a, it estimates the advantage of showing a instead of the
 * control c once, then following the policy that logged the data:
 *
 *   A(s, a) = E[r | s, a] − E[r | s, c]  +  E[γ·G′ | s, a] − E[γ·G′ | s, c]
 *
 * where G′ is the Monte-Carlo discounted return of the same visitor's later decisions. Nothing is
 * bootstrapped through a value function, so the aliasing of a coarse state key (many visitors, one
 * key) biases nothing; the price is variance, which is why every estimate is pooled and tested:
 *
 * - **Pooling.** Each term is estimated over groups of states named by `levels` (lists of state-key
 *   fields, coarse to fine), each level shrunk towards the one above with a pseudo-count: a group
 *   with n rows of a moves the estimate by n / (n + shrinkage) of its own evidence, and the variance
 *   accounts for a group's rows being part of the level above. The immediate
 *   term starts from the promotion's own average; the later term from the average over every
 *   promotion, because what a promotion does to a visitor's later visits (a raised reference
 *   price, fatigue) is much the same whichever it was, and is the noisiest part to estimate.
 * - **Means.** Self-normalised importance-weighted (Hájek) means within each group, so that a
 *   group spanning states where the logging policy played a more or less often is not confounded.
 * - **The test.** A state deviates from the control only where a promotion's lower confidence bound,
 *   advantage − z·standard error, is above 0, and only for a promotion logged at least `minCount`
 *   times. Elsewhere the control stays: no evidence, no change (SPIBB's rule, with a bound for a count).
 *
 * Run over rounds, each round's logs come from the previous round's policy and its exploration,
 * which is approximate policy iteration that only ever takes steps it can back with evidence.
 *
 * The result is a stochastic policy written as a Q-table of log-probabilities and served with a
 * softmax at temperature 1, so the edge runs it with no new inference code: the learned choice gets
 * 1 − exploration, and the exploration goes only to the control and to promotions whose upper
 * bound is above 0 (or that are too rarely logged to judge): by default only the one with the
 * highest upper bound in that state (`explore`). Promotions the logs show to lose are no longer
 * explored there, which makes exploring cheaper, and the next round's logs put several times the
 * data behind the likeliest switch. Where the learned choice is not eligible at serving time, the
 * softmax spreads its share over the rest in proportion.
 */
export interface SafeImprovementOptions {
  gamma: number;
  /** The control's action index: what every state keeps unless the evidence says otherwise. */
  control: number;
  /** One-sided confidence multiplier of the lower bound. */
  z: number;
  /** Pseudo-count pulling a group's estimate towards the level above. */
  shrinkage: number;
  /** Least logged count of a promotion, over all the data, before it may be chosen anywhere. */
  minCount: number;
  /** Share of decisions explored, spread over the promotions the evidence has not ruled out. */
  exploration: number;
  /**
   * Which of those the exploration goes to: every one alike (`plausible`), or, besides the control
   * and the choice, only the one with the highest upper bound (`most-promising`), so that the next
   * round's logs test the likeliest switch with several times the data. `promising-states` does
   * the latter only in the states where a switch is still possible (the learner judges the state,
   * and some promotion's upper bound is above 0), with a share raised so that the same share of all
   * logged decisions is explored (at most {@link MAX_STATE_EXPLORATION} in one state); elsewhere the
   * choice is served alone, since exploring there could never lead to a switch.
   */
  explore: (typeof SAFE_EXPLORE_CHOICES)[number];
  /** Groups for the immediate reward term, coarse to fine ([] is all states). */
  immediateLevels: readonly (readonly (keyof Context)[])[];
  /** Groups for the later-return term, coarse to fine. */
  laterLevels: readonly (readonly (keyof Context)[])[];
  /**
   * A state-key field whose first bucket means "shown no promotion lately" (promosSeen7d), or null.
   * When set, the learner deviates only in those states and learns only from them.
   */
  unexposedField: keyof Context | null;
}

export const SAFE_EXPLORE_CHOICES = ["plausible", "most-promising", "promising-states"] as const;

export const DEFAULT_SAFE_IMPROVEMENT_OPTIONS: Omit<SafeImprovementOptions, "gamma" | "control"> = {
  exploration: DEFAULT_CONTROL.exploration,
  explore: "most-promising",
  z: 2,
  shrinkage: 200,
  minCount: 100,
  immediateLevels: [[], ["cartValue"], ["cartValue", "referrer"], ["cartValue", "referrer", "purchases"]],
  laterLevels: [[], ["cartValue"], ["cartValue", "purchases"]],
  unexposedField: "promosSeen7d",
};

export interface SafeImprovementResult {
  /** Row-major [stateCount][actionCount]: log-probabilities, served with {@link LOG_PROBABILITY_EXPLORATION}. */
  q: Float32Array;
  stateCount: number;
  actionCount: number;
  /** Share of logged decisions at which the greedy choice differs from the control. */
  deviationShare: number;
  /** Steps processed per second. */
  transitionsPerSecond: number;
}

/**
 * How a safe-improvement table is served: softmax at temperature 1 over log-probabilities, which
 * gives back exactly the probabilities the learner wrote (renormalised over the eligible actions).
 */
export const LOG_PROBABILITY_EXPLORATION: Exploration = { type: "softmax", temperature: 1, floor: 0 };

/** The most of one state's decisions `promising-states` explores: the choice keeps the rest. */
export const MAX_STATE_EXPLORATION = 0.5;

/** exp(−800) is exactly 0 in float64: a promotion the evidence rules out is never drawn there. */
const RULED_OUT = -800;

/**
 * One state's row: the choice gets 1 − share, and the exploration share is spread evenly over the
 * choice, the control and the promotions left in `plausible`, so that exploring spends nothing on
 * what the logs already show to lose.
 */
function writeLogProbabilities(
  row: Float32Array,
  choice: number,
  control: number,
  plausible: Uint8Array,
  share: number,
): void {
  if (share === 0) {
    row.fill(RULED_OUT);
    row[choice] = 0;
    return;
  }
  plausible[choice] = 1;
  plausible[control] = 1;
  let explored = 0;
  for (const p of plausible) explored += p;
  for (let a = 0; a < row.length; a++) row[a] = plausible[a] ? Math.log(share / explored) : RULED_OUT;
  row[choice] = Math.log(1 - share + share / explored);
}

/** Narrows `plausible` to the one promotion, other than the choice and the control, with the highest upper bound. */
function keepMostPromising(plausible: Uint8Array, upper: Float64Array, choice: number, control: number): void {
  let best = -1;
  for (let a = 0; a < plausible.length; a++) {
    if (!plausible[a] || a === choice || a === control) continue;
    if (best === -1 || upper[a]! > upper[best]!) best = a;
  }
  plausible.fill(0);
  if (best !== -1) plausible[best] = 1;
}

export function learnSafeImprovement(
  dataset: Dataset,
  spec: CompiledFeatureSpec,
  options: SafeImprovementOptions,
): SafeImprovementResult {
  const { gamma, control, z, shrinkage, minCount, exploration } = options;
  if (!(exploration >= 0 && exploration < 1)) throw new RangeError(`exploration ${exploration} must lie in [0, 1)`);
  if (!(gamma >= 0 && gamma < 1)) throw new RangeError(`gamma ${gamma} must lie in [0, 1)`);
  if (!(z >= 0 && shrinkage >= 0 && minCount >= 0)) throw new RangeError("z, shrinkage and minCount must be ≥ 0");
  if (dataset.featureSpecHash !== spec.hash || dataset.stateCount !== spec.stateCount) {
    throw new RangeError(`the logs use feature spec ${dataset.featureSpecHash}, the learner was given ${spec.hash}`);
  }
  const actionCount = dataset.actions.length;
  if (!(Number.isInteger(control) && control >= 0 && control < actionCount)) {
    throw new RangeError(`control ${control} is not an action index`);
  }
  const started = performance.now();
  const columns = transitionColumns(dataset);
  const later = laterReturns(columns, gamma);
  const judged = judgedKeys(spec, options.unexposedField);
  const immediate = new Tally(groupsOf(spec, options.immediateLevels), actionCount, control);
  const after = new Tally(groupsOf(spec, options.laterLevels), actionCount, control);
  immediate.add(columns, dataset, columns.reward, judged);
  after.add(columns, dataset, later, judged);

  const counts = new Float64Array(actionCount);
  for (let i = 0; i < columns.action.length; i++) counts[columns.action[i]!]! += 1;

  const { stateCount } = spec;
  const alwaysEligible = eligibleAtEveryLoggedVisit(columns, stateCount);
  const q = new Float32Array(stateCount * actionCount);
  const lower = new Float64Array(actionCount);
  const upper = new Float64Array(actionCount);
  const plausible = new Uint8Array(actionCount);
  const choices = new Int32Array(stateCount);
  const explored = new Int32Array(stateCount).fill(-1);
  for (let s = 0; s < stateCount; s++) {
    plausible.fill(1);
    lower.fill(Number.NEGATIVE_INFINITY);
    upper.fill(Number.POSITIVE_INFINITY);
    let choice = control;
    for (let a = 0; a < actionCount; a++) {
      // Too few rows, or a state the learner leaves alone: nothing is known, so it stays explored.
      if (a === control || counts[a]! < minCount || !judged[s]) continue;
      const now = immediate.estimate(s, a, shrinkage, false);
      const then = after.estimate(s, a, shrinkage, true);
      const margin = z * Math.sqrt(now.variance + then.variance);
      lower[a] = now.mean + then.mean - margin;
      upper[a] = now.mean + then.mean + margin;
      plausible[a] = upper[a]! > 0 ? 1 : 0;
      const better = lower[a]! > 0 && lower[a]! > (choice === control ? 0 : lower[choice]!);
      if (better && alwaysEligible[s * actionCount + a]) choice = a;
    }
    if (options.explore !== "plausible") {
      keepMostPromising(plausible, upper, choice, control);
      choices[s] = choice;
      const promising = plausible.indexOf(1);
      // Unjudged states keep +∞ bounds: the learner never switches them, so exploring them is pure cost.
      const worth = options.explore === "most-promising" || (judged[s] && (upper[promising] ?? 0) > 0);
      explored[s] = worth ? promising : -1;
    }
    // promising-states writes its rows once it knows how much of the logs its states hold, below.
    if (options.explore !== "promising-states") {
      writeLogProbabilities(
        q.subarray(s * actionCount, (s + 1) * actionCount),
        choice,
        control,
        plausible,
        exploration,
      );
    }
  }
  if (options.explore === "promising-states") {
    // The share of logged decisions in states worth exploring sets how much each of them explores.
    let worth = 0;
    for (const state of columns.state) if (explored[columns.stateKey[state]!]! >= 0) worth++;
    const share = worth > 0 ? Math.min(MAX_STATE_EXPLORATION, (exploration * columns.state.length) / worth) : 0;
    for (let s = 0; s < stateCount; s++) {
      plausible.fill(0);
      if (explored[s]! >= 0) plausible[explored[s]!] = 1;
      writeLogProbabilities(
        q.subarray(s * actionCount, (s + 1) * actionCount),
        choices[s]!,
        control,
        plausible,
        explored[s]! >= 0 ? share : 0,
      );
    }
  }

  let deviations = 0;
  for (const state of columns.state) {
    const row = columns.stateKey[state]! * actionCount;
    const eligible = columns.eligible.subarray(state * actionCount, (state + 1) * actionCount);
    if (greedyAction(q.subarray(row, row + actionCount), eligible) !== control) deviations++;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    q,
    stateCount,
    actionCount,
    deviationShare: columns.state.length ? deviations / columns.state.length : 0,
    transitionsPerSecond: columns.state.length / Math.max(seconds, 1e-9),
  };
}

/**
 * 1 where an action was eligible at every logged decision with that state key (and the key was
 * logged at all). The learner only switches a key to such an action: where the choice is not
 * eligible, the edge's softmax would hand its share to the explored promotions instead.
 */
function eligibleAtEveryLoggedVisit(columns: TransitionColumns, stateCount: number): Uint8Array {
  const { actionCount } = columns;
  const seen = new Uint8Array(stateCount);
  const always = new Uint8Array(stateCount * actionCount).fill(1);
  columns.stateKey.forEach((key, state) => {
    seen[key] = 1;
    for (let a = 0; a < actionCount; a++) {
      if (!columns.eligible[state * actionCount + a]) always[key * actionCount + a] = 0;
    }
  });
  for (let key = 0; key < stateCount; key++) if (!seen[key]) always.fill(0, key * actionCount, (key + 1) * actionCount);
  return always;
}

/** 1 for the state keys the learner may change: all, or those in the first bucket of `field`. */
function judgedKeys(spec: CompiledFeatureSpec, field: keyof Context | null): Uint8Array {
  if (field === null) return new Uint8Array(spec.stateCount).fill(1);
  // A one-field level's group is that field's bucket.
  return Uint8Array.from(groupsOf(spec, [[field]]).groupOfKey[0]!, (bucket) => (bucket === 0 ? 1 : 0));
}

/** Each level's group index for every state key. */
interface Levels {
  /** Per level: group of each state key. */
  groupOfKey: Int32Array[];
  groupCount: number[];
}

function groupsOf(spec: CompiledFeatureSpec, levels: SafeImprovementOptions["immediateLevels"]): Levels {
  const fields = stateKeyFields(spec);
  const positions = levels.map((level) =>
    level.map((field) => {
      const at = fields.findIndex((f) => f.field === field);
      if (at === -1) throw new RangeError(`"${String(field)}" is not a field of the state key`);
      return at;
    }),
  );
  const groupOfKey = positions.map(() => new Int32Array(spec.stateCount));
  for (let key = 0; key < spec.stateCount; key++) {
    const buckets = stateKeyBuckets(spec, key);
    positions.forEach((level, l) => {
      groupOfKey[l]![key] = level.reduce((g, at) => g * fields[at]!.buckets + buckets[at]!, 0);
    });
  }
  const groupCount = positions.map((level) => level.reduce((n, at) => n * fields[at]!.buckets, 1));
  return { groupOfKey, groupCount };
}

/** Per group, per action (plus one slot for "any promotion"), per side (control, treated): weighted sums. */
const SUMS = 6; // n, Σw, Σwy, Σw², Σw²y, Σw²y²
const CONTROL_SIDE = 0;
const TREATED_SIDE = 1;

interface Estimate {
  mean: number;
  variance: number;
}

class Tally {
  private readonly sums: Float64Array[];
  private readonly slots: number;
  private readonly levels: Levels;
  private readonly actionCount: number;
  private readonly control: number;

  constructor(levels: Levels, actionCount: number, control: number) {
    this.levels = levels;
    this.actionCount = actionCount;
    this.control = control;
    this.slots = actionCount + 1;
    this.sums = levels.groupCount.map((n) => new Float64Array(n * this.slots * 2 * SUMS));
  }

  private get any(): number {
    return this.actionCount;
  }

  add(columns: TransitionColumns, dataset: Dataset, target: Float64Array, judged: Uint8Array): void {
    const { actionCount, control } = this;
    for (let i = 0; i < columns.state.length; i++) {
      const state = columns.state[i]!;
      const key = columns.stateKey[state]!;
      if (!judged[key]) continue;
      const action = columns.action[i]!;
      const w = 1 / dataset.steps[i]!.propensity;
      const y = target[i]!;
      for (let l = 0; l < this.sums.length; l++) {
        const group = this.levels.groupOfKey[l]![key]!;
        if (action === control) {
          for (let a = 0; a < actionCount; a++) {
            if (a !== control && columns.eligible[state * actionCount + a]) this.put(l, group, a, CONTROL_SIDE, w, y);
          }
          this.put(l, group, this.any, CONTROL_SIDE, w, y);
        } else {
          this.put(l, group, action, TREATED_SIDE, w, y);
          this.put(l, group, this.any, TREATED_SIDE, w, y);
        }
      }
    }
  }

  private put(level: number, group: number, slot: number, side: number, w: number, y: number): void {
    const s = this.sums[level]!;
    const o = ((group * this.slots + slot) * 2 + side) * SUMS;
    s[o]! += 1;
    s[o + 1]! += w;
    s[o + 2]! += w * y;
    s[o + 3]! += w * w;
    s[o + 4]! += w * w * y;
    s[o + 5]! += w * w * y * y;
  }

  /** Treated minus control in one group: Hájek means, with the linearised variance of each; null without data on both sides. */
  private raw(level: number, group: number, slot: number): (Estimate & { n: number }) | null {
    const s = this.sums[level]!;
    const side = (which: number) => {
      const o = ((group * this.slots + slot) * 2 + which) * SUMS;
      const [n, sw, swy, sw2, sw2y, sw2y2] = [s[o]!, s[o + 1]!, s[o + 2]!, s[o + 3]!, s[o + 4]!, s[o + 5]!];
      if (n < 2) return null;
      const mean = swy / sw;
      return { n, mean, variance: Math.max(0, sw2y2 - 2 * mean * sw2y + mean * mean * sw2) / (sw * sw) };
    };
    const treated = side(TREATED_SIDE);
    const held = side(CONTROL_SIDE);
    if (!treated || !held) return null;
    return { n: treated.n, mean: treated.mean - held.mean, variance: treated.variance + held.variance };
  }

  /** The pooled advantage of `action` at state key `key`, walking the levels from coarse to fine. */
  estimate(key: number, action: number, shrinkage: number, fromAnyPromotion: boolean): Estimate {
    const steps: [level: number, slot: number][] = this.sums.map((_, level) => [level, action]);
    if (fromAnyPromotion) steps.unshift([0, this.any]);
    let current: Estimate = { mean: 0, variance: Number.POSITIVE_INFINITY };
    for (const [level, slot] of steps) {
      const r = this.raw(level, this.levels.groupOfKey[level]![key]!, slot);
      if (!r) continue;
      if (current.variance === Number.POSITIVE_INFINITY) {
        current = { mean: r.mean, variance: r.variance };
        continue;
      }
      // The group's rows are among those of the level above, so the two means are correlated
      // (covariance ≈ the coarser one's variance): w·child + (1 − w)·parent has variance
      // w²·V(child) + (1 − w²)·V(parent), never less than the parent's alone.
      const w = r.n / (r.n + shrinkage);
      current = {
        mean: w * r.mean + (1 - w) * current.mean,
        variance: w * w * r.variance + (1 - w * w) * current.variance,
      };
    }
    return current;
  }
}
