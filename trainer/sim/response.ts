import { promotionCost } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { rewardOf, type AttributedOutcome } from "../../shared/reward.ts";
import type { Rng } from "../../shared/rng.ts";
import { ORDER, type LatentState, type OrderOutcome } from "./latent.ts";
import type { SimModel } from "./model.ts";

/** The part of a context the response depends on; the rest only carries information about the segment. */
export type ResponseContext = Pick<Context, "page" | "cartValue">;

/** Outcome probabilities of one page view under one action, and the exact expected reward they imply. */
export interface Response {
  click: number;
  conversion: number;
  /** Probability that an order is refunded, given that it was placed. */
  refund: number;
  /** Value of the order if there is one (a deterministic function of context and action). */
  orderValue: number;
  /** The price cut, in reference levels: what conditioning and the reference-price effect compare. */
  depth: number;
  /** E[reward], by the trainer's `rewardOf` applied to each possible outcome (reward is additive in outcomes). */
  expectedReward: number;
}

const CLICK: readonly AttributedOutcome[] = [{ kind: "click", value: 0 }];

/**
 * Conversion follows a reference-price model: on the log-odds scale, a price cut helps by how much it
 * beats what the visitor expects (`discountGain` per level), and paying more than expected hurts more
 * (`referenceLoss` per level, loss aversion). Fatigue damps whatever a promotion adds.
 * Click and conversion are independent given the state; a refund can only follow an order.
 */
export function respond(model: SimModel, state: LatentState, context: ResponseContext, action: number): Response {
  const segment = model.segments[state.segment]!;
  const promotion = model.catalogue[action]!;
  const params = model.promotions[promotion.id]!;
  const damping = 1 - model.fatigueDamping * state.fatigue;

  const baseOrder = context.cartValue > 0 ? context.cartValue : segment.emptyCartOrder;
  const orderValue = Math.round(baseOrder * params.basketUplift * 100) / 100;
  const depth = params.priceCut ? promotionCost(promotion, orderValue) / orderValue / model.referenceStep : 0;

  const surprise = depth - state.reference;
  const priceEffect = surprise >= 0 ? segment.discountGain * surprise * damping : segment.referenceLoss * surprise;
  const logit =
    segment.baseLogit +
    model.pageLogit[context.page] +
    (context.cartValue > 0 ? model.filledCartLogit : 0) +
    priceEffect +
    (segment.appeal[promotion.id] ?? 0) * damping;
  const conversion = 1 / (1 + Math.exp(-logit));
  const click = clamp01(segment.clickRate + (action === 0 ? 0 : segment.promoClickRate * damping));
  const refund = clamp01(segment.refundRate + params.refundUplift);

  const order: readonly AttributedOutcome[] = [{ kind: "conversion", value: orderValue }];
  const refunded: readonly AttributedOutcome[] = [{ kind: "refund", value: orderValue }];
  const expectedReward =
    click * rewardOf(CLICK, action, model.catalogue, model.reward) +
    conversion * rewardOf(order, action, model.catalogue, model.reward) +
    conversion * refund * rewardOf(refunded, action, model.catalogue, model.reward);

  return { click, conversion, refund, orderValue, depth, expectedReward };
}

/** Probability of each order outcome (none, kept, refunded), indexed by {@link ORDER}. */
export function orderProbabilities(response: Response): readonly [number, number, number] {
  const placed = response.conversion;
  return [1 - placed, placed * (1 - response.refund), placed * response.refund];
}

/** One page view's realised outcomes, drawn from a response with a fixed number of draws. */
export interface DrawnOutcome {
  clicked: boolean;
  order: OrderOutcome;
}

export function drawOutcome(response: Response, rng: Rng): DrawnOutcome {
  const clicked = rng() < response.click;
  const placed = rng() < response.conversion;
  const refunded = rng() < response.refund;
  return { clicked, order: !placed ? ORDER.none : refunded ? ORDER.refunded : ORDER.kept };
}

/** The outcomes the site would report, in the trainer's terms. */
export function attributedOutcomes(outcome: DrawnOutcome, orderValue: number): AttributedOutcome[] {
  const outcomes: AttributedOutcome[] = [];
  if (outcome.clicked) outcomes.push({ kind: "click", value: 0 });
  if (outcome.order !== ORDER.none) outcomes.push({ kind: "conversion", value: orderValue });
  if (outcome.order === ORDER.refunded) outcomes.push({ kind: "refund", value: orderValue });
  return outcomes;
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
