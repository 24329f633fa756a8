import type { Rng } from "../../shared/rng.ts";
import type { SimModel } from "./model.ts";

/**
 * The visitor's hidden state, which the edge never sees. Its dynamic parts are small integers so
 * that value iteration can enumerate them; everything else about a visitor is drawn afresh per page
 * view (see traffic.ts), which is what keeps the latent state Markov and small.
 *
 * Within a visit, promotions condition (reference up) and tire (fatigue up) the visitor, and kept
 * orders build loyalty; between visits, reference and fatigue fade (see {@link visitBreakMoves}).
 */
export interface LatentState {
  /** Index into the model's segments. */
  segment: number;
  /** The discount the visitor has come to expect, in levels of `referenceStep` (0 = full price is fine). */
  reference: number;
  /** Promotion fatigue: damps every promotion's effect and drives annoyance churn. */
  fatigue: number;
  /** Kept orders, capped: a good experience makes the visitor come back. */
  loyalty: number;
}

/** How a page view's order went, which is all the dynamics need of its outcome. */
export const ORDER = { none: 0, kept: 1, refunded: 2 } as const;
export type OrderOutcome = (typeof ORDER)[keyof typeof ORDER];
export const ORDER_OUTCOMES: readonly OrderOutcome[] = [ORDER.none, ORDER.kept, ORDER.refunded];

export function arrivalState(model: SimModel, segment: number): LatentState {
  return { segment, reference: model.segments[segment]!.restingReference, fatigue: 0, loyalty: 0 };
}

/** Probability that a price cut of `depth` reference levels raises the visitor's reference one level. */
export function conditioningProbability(
  model: SimModel,
  segment: number,
  reference: number,
  depth: number,
  order: OrderOutcome,
): number {
  // Coupon conditioning: a price cut deeper than expected pulls the expectation up, more likely the
  // bigger the surprise, and more when the discount was redeemed than when it was only seen.
  if (depth <= reference || reference >= model.levels.reference - 1) return 0;
  const redeemed = order === ORDER.none ? model.unredeemedConditioning : 1;
  return Math.min(1, model.segments[segment]!.conditioning * Math.min(1, depth - reference) * redeemed);
}

/** Probability that showing `action` raises fatigue one level (action 0 shows nothing). */
export function fatigueProbability(model: SimModel, fatigue: number, action: number): number {
  if (action === 0 || fatigue >= model.levels.fatigue - 1) return 0;
  return model.promotions[model.catalogue[action]!.id]!.fatigue;
}

/** A kept order raises loyalty one level; a refunded one does not (it was not a good experience). */
export function loyaltyUp(model: SimModel, loyalty: number, order: OrderOutcome): number {
  return order === ORDER.kept && loyalty < model.levels.loyalty - 1 ? 1 : 0;
}

/**
 * What fades between two visits: the reference falls one level back towards the segment's resting
 * level, and fatigue one level, each with its probability. Both only fade between visits (days),
 * never between the page views of one visit (minutes), so their memory spans about as many days as
 * the edge's own 7-day exposure window: the observable history stays informative about them.
 */
export function visitBreakMoves(model: SimModel, state: LatentState): { referenceDown: number; fatigueDown: number } {
  const segment = model.segments[state.segment]!;
  return {
    referenceDown: state.reference > segment.restingReference ? segment.referenceDecay : 0,
    fatigueDown: state.fatigue > 0 ? model.fatigueRecovery : 0,
  };
}

/** Probability of coming back after a visit ends: loyalty raises it, annoyance (fatigue) lowers it. */
export function returnProbability(model: SimModel, segment: number, fatigue: number, loyalty: number): number {
  const params = model.segments[segment]!;
  const p = params.returnRate + model.loyaltyReturnBonus * loyalty - params.annoyance * fatigue;
  return Math.min(model.maxReturnRate, Math.max(0, p));
}

/** Samples the state after a page view, with the probabilities value iteration uses (two draws, always). */
export function nextLatentState(
  model: SimModel,
  state: LatentState,
  action: number,
  depth: number,
  order: OrderOutcome,
  rng: Rng,
): LatentState {
  const conditioned = rng() < conditioningProbability(model, state.segment, state.reference, depth, order);
  const fatigued = rng() < fatigueProbability(model, state.fatigue, action);
  return {
    segment: state.segment,
    reference: state.reference + (conditioned ? 1 : 0),
    fatigue: state.fatigue + (fatigued ? 1 : 0),
    loyalty: state.loyalty + loyaltyUp(model, state.loyalty, order),
  };
}

/** Samples the fading between two visits (two draws, always). */
export function afterVisitBreak(model: SimModel, state: LatentState, rng: Rng): LatentState {
  const moves = visitBreakMoves(model, state);
  const referenceFades = rng() < moves.referenceDown;
  const fatigueFades = rng() < moves.fatigueDown;
  return {
    ...state,
    reference: state.reference - (referenceFades ? 1 : 0),
    fatigue: state.fatigue - (fatigueFades ? 1 : 0),
  };
}
