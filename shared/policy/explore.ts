import { uniformFromString } from "../hash.ts";
import type { Exploration } from "./types.ts";

export interface Choice {
  action: number;
  /** Exact probability with which `action` was drawn, under the eligibility mask. */
  propensity: number;
  /** True when the draw was not the greedy action. */
  explored: boolean;
}

/** Index of the highest Q-value among eligible actions; the lowest index wins ties. */
export function greedyAction(q: ArrayLike<number>, eligible: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < eligible.length; i++) {
    if (eligible[i] && (best === -1 || q[i]! > q[best]!)) best = i;
  }
  if (best === -1) throw new RangeError("no eligible action");
  return best;
}

/**
 * Extra exploration for promotions a policy knows only by their attributes: `share` of every
 * decision is spread evenly over the eligible ones flagged in `promotions`.
 */
export interface NewPromotionBoost {
  promotions: Uint8Array;
  share: number;
}

/**
 * Probabilities of each action under the exploration rule, restricted to the eligible ones.
 * Ineligible actions get exactly 0; every eligible one gets at least min(floor, 1/n). With a
 * `boost`, the result is (1 − share)·that + share spread over the eligible new promotions.
 */
export function actionProbabilities(
  q: ArrayLike<number>,
  eligible: ArrayLike<number>,
  exploration: Exploration,
  out: Float64Array = new Float64Array(eligible.length),
  boost?: NewPromotionBoost,
): Float64Array {
  ruleProbabilities(q, eligible, exploration, out);
  if (boost === undefined || !(boost.share > 0)) return out;
  let boosted = 0;
  for (let i = 0; i < eligible.length; i++) if (eligible[i] && boost.promotions[i]) boosted++;
  if (boosted === 0) return out;
  const share = Math.min(1, boost.share);
  for (let i = 0; i < eligible.length; i++) {
    out[i] = (1 - share) * out[i]! + (eligible[i] && boost.promotions[i] ? share / boosted : 0);
  }
  return out;
}

function ruleProbabilities(
  q: ArrayLike<number>,
  eligible: ArrayLike<number>,
  exploration: Exploration,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  const greedy = greedyAction(q, eligible);
  let n = 0;
  for (let i = 0; i < eligible.length; i++) if (eligible[i]) n++;
  const floor = Math.min(Math.max(exploration.floor, 0), 1 / n);

  if (exploration.type === "epsilon" || !(exploration.temperature > 0)) {
    // A softmax at temperature 0 is its limit: greedy, then the floor.
    const rate = exploration.type === "epsilon" ? exploration.epsilon : 0;
    const epsilon = Math.min(1, Math.max(rate, floor * n));
    for (let i = 0; i < eligible.length; i++) if (eligible[i]) out[i] = epsilon / n;
    out[greedy]! += 1 - epsilon;
    return out;
  }

  const qMax = q[greedy]!;
  let total = 0;
  for (let i = 0; i < eligible.length; i++) {
    if (!eligible[i]) continue;
    out[i] = Math.exp((q[i]! - qMax) / exploration.temperature);
    total += out[i]!;
  }
  let least = 1;
  for (let i = 0; i < eligible.length; i++) {
    if (!eligible[i]) continue;
    out[i]! /= total;
    least = Math.min(least, out[i]!);
  }
  if (least < floor) {
    // Mix with uniform just enough that the least likely action reaches the floor.
    const mix = (floor - least) / (1 / n - least);
    for (let i = 0; i < eligible.length; i++) if (eligible[i]) out[i] = (1 - mix) * out[i]! + mix / n;
  }
  return out;
}

/**
 * Draws an action with `u` ∈ [0, 1). Given the same inputs it returns the same action and the same
 * propensity, which is what makes a logged decision replayable.
 */
export function choose(
  q: ArrayLike<number>,
  eligible: ArrayLike<number>,
  u: number,
  exploration: Exploration,
  scratch?: Float64Array,
  boost?: NewPromotionBoost,
): Choice {
  const p = actionProbabilities(q, eligible, exploration, scratch, boost);
  // When rounding leaves the cumulative sum a hair under 1 and u lands above it, the draw goes to the
  // last action that can be drawn at all: never to one whose propensity is 0.
  let action = -1;
  let cumulative = 0;
  for (let i = 0; i < eligible.length; i++) {
    if (!eligible[i] || !(p[i]! > 0)) continue;
    action = i;
    cumulative += p[i]!;
    if (u < cumulative) break;
  }
  return { action, propensity: p[action]!, explored: action !== greedyAction(q, eligible) };
}

/** The exploration draw of a decision, derived from its id alone. */
export function decisionUniform(decisionId: string): number {
  return uniformFromString(`u:${decisionId}`);
}
