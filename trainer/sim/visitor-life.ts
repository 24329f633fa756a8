import type { Context } from "../../shared/context.ts";
import type { AttributedOutcome } from "../../shared/reward.ts";
import { rewardOf } from "../../shared/reward.ts";
import type { Rng } from "../../shared/rng.ts";
import { afterVisitBreak, nextLatentState, returnProbability, type LatentState } from "./latent.ts";
import type { SimModel } from "./model.ts";
import { STREAM, streamRng } from "./random.ts";
import { attributedOutcomes, drawOutcome, respond, type DrawnOutcome, type Response } from "./response.ts";
import { drawNextPageView, drawPage, localClock, type Traffic, type VisitorProfile } from "./traffic.ts";

/**
 * The steps of one simulated visitor's life that do not depend on who decides: the page view the
 * visitor makes, how it responds to the promotion shown, and whether and when it comes back. The
 * in-process simulator and the HTTP driver both walk visitors through these, so a policy behind the
 * Worker meets the same visitors as one run in-process.
 */

/** The random streams of one page view: the world's (what the visitor does) and the responses'. */
export interface StepStreams {
  world: Rng;
  dice: Rng;
}

export function stepStreams(seed: number, visitor: number, step: number): StepStreams {
  return { world: streamRng(seed, STREAM.world, visitor, step), dice: streamRng(seed, STREAM.response, visitor, step) };
}

/** The request half of a context: what the page and the request tell the edge (the cookie tells it the rest). */
export type RequestContext = Pick<
  Context,
  "device" | "country" | "localHour" | "weekday" | "page" | "referrer" | "cartValue"
>;

export function requestContext(
  traffic: Traffic,
  visitor: VisitorProfile,
  ts: number,
  referrer: Context["referrer"],
  world: Rng,
): RequestContext {
  const { page, cartValue } = drawPage(traffic, visitor.segment, world);
  return {
    device: visitor.device,
    country: visitor.country.code,
    ...localClock(ts, visitor.country),
    page,
    referrer,
    cartValue,
  };
}

/** What happened after the promotion was shown. */
export interface StepResult {
  response: Response;
  outcome: DrawnOutcome;
  outcomes: AttributedOutcome[];
  /** `rewardOf` of the outcomes: the trainer's reward, exactly. */
  reward: number;
  /** The latent state after the page view (before any between-visit fading). */
  latent: LatentState;
}

export function respondToPromotion(
  model: SimModel,
  latent: LatentState,
  context: RequestContext,
  action: number,
  dice: Rng,
): StepResult {
  const response = respond(model, latent, context, action);
  const outcome = drawOutcome(response, dice);
  const outcomes = attributedOutcomes(outcome, response.orderValue);
  return {
    response,
    outcome,
    outcomes,
    reward: rewardOf(outcomes, action, model.catalogue, model.reward),
    latent: nextLatentState(model, latent, action, response.depth, outcome.order, dice),
  };
}

/** The visitor's next page view, or null when it churns. */
export interface NextStep {
  ts: number;
  newVisit: boolean;
  referrer: Context["referrer"];
  /** The latent state at the next page view (faded if a new visit). */
  latent: LatentState;
}

/** Stay in the visit, come back later (a probability that depends on the state), or churn. */
export function advance(
  traffic: Traffic,
  visitor: VisitorProfile,
  ts: number,
  referrer: Context["referrer"],
  after: LatentState,
  streams: StepStreams,
): NextStep | null {
  const { model } = traffic;
  const stays = streams.world() < model.segments[visitor.segment]!.stay;
  const returns = streams.world() < returnProbability(model, after.segment, after.fatigue, after.loyalty);
  const next = drawNextPageView(traffic, visitor, ts, stays, streams.world);
  if (!stays && !returns) return null;
  return {
    ts: next.ts,
    newVisit: next.newVisit,
    referrer: next.newVisit ? next.referrer : referrer,
    latent: next.newVisit ? afterVisitBreak(model, after, streams.dice) : after,
  };
}
