import { eligibleMask, promotionCost, type ExposureCounts } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import type { DecisionEngine } from "../../shared/decide.ts";
import { catalogueHash } from "../../shared/catalogue-document.ts";
import { fingerprint } from "../../shared/hash.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey, type CompiledFeatureSpec } from "../../shared/features.ts";
import { toDecisionRow } from "../../shared/log-row.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import {
  exposureCounts,
  newVisitorMemory,
  recordExposure,
  recordPageView,
  recordPurchase,
  visitorState,
} from "../../shared/visitor.ts";
import type { Choice } from "../../shared/policy/explore.ts";
import type { AttributedOutcome } from "../../shared/reward.ts";
import { engineChooser, type Chooser } from "./chooser.ts";
import { shopProfile } from "./shop-profile.ts";
import { arrivalState, ORDER, type LatentState } from "./latent.ts";
import { DEFAULT_SIM_MODEL, validateModel, type SimModel } from "./model.ts";
import { compileTraffic, drawVisitor, type Traffic, type VisitorProfile } from "./traffic.ts";
import { advance, requestContext, respondToPromotion, stepStreams, type StepResult } from "./visitor-life.ts";

/**
 * When the site reports each outcome, after the decision. Every one lands within
 * {@link MAX_OUTCOME_DELAY_MS}, so an attribution window at least that long sees all of them and the
 * trainer's reward from the logs equals the simulator's.
 */
export const OUTCOME_DELAY_MS = { click: 15_000, conversion: 5 * 60_000, refund: 2 * 86_400_000 } as const;
export const MAX_OUTCOME_DELAY_MS = OUTCOME_DELAY_MS.refund;

export interface SimulateOptions {
  seed: number;
  visitors: number;
  /** A chooser, or a decision engine (run through the edge's own decision path). */
  policy: Chooser | DecisionEngine;
  model?: SimModel;
  /** The feature spec of the logged rows (and of an engine given as `policy`). */
  spec?: CompiledFeatureSpec;
  /** Page views per visitor at most; the rest of a very long life is cut off. Default 100. */
  maxSteps?: number;
  /** Keep every page view and its D1 rows. Off, only per-visitor totals are kept (fast scoring). Default true. */
  record?: boolean;
}

/** One simulated page view, with what the edge logged and what only the simulator knows. */
export interface SimulatedStep {
  decision: DecisionRow;
  outcomes: OutcomeRow[];
  /** Index of the visitor in {@link SimulationResult.visitors}. */
  visitor: number;
  context: Context;
  exposures: ExposureCounts;
  eligible: Uint8Array;
  action: number;
  /** The realised reward, `rewardOf` of the outcomes. */
  reward: number;
  /** The visitor's hidden state when the decision was made. */
  latent: LatentState;
  /** Index in {@link SimulationResult.steps} of the same visitor's next page view; -1 when it was the last. */
  next: number;
}

/** One visitor's whole life under the policy. */
export interface VisitorOutcome {
  /** The raw visitor id (what the cookie would hold); logged rows carry {@link visitorHash} of it instead. */
  visitorId: string;
  segment: string;
  pageViews: number;
  visits: number;
  /** Σ γ^t · reward_t over the visitor's page views: the long-term value the oracle maximises. */
  discountedValue: number;
  /** Σ reward_t, undiscounted. */
  reward: number;
  /** Value of the orders placed (refunded ones included). */
  revenue: number;
  /** Margin on orders less promotion costs and refund charges (the reward without click value). */
  margin: number;
  promotionCost: number;
  refunded: number;
  conversions: number;
  clicks: number;
  /** Page views per action id. */
  actions: Record<string, number>;
}

export interface SimulationResult {
  seed: number;
  policy: string;
  gamma: number;
  visitors: VisitorOutcome[];
  /** Empty unless `record`. Ordered by visitor, then time. */
  steps: SimulatedStep[];
}

/**
 * Runs `visitors` simulated visitors through a policy, as the edge would see them: the context is
 * built from the shared VisitorMemory (the cookie), eligibility from the shared catalogue rules, and
 * a decision engine decides exactly as the Worker does. Same seed, same traffic: each visitor's
 * contexts, timeline and outcome draws come from its own streams (see random.ts).
 */
export function simulateTraffic(options: SimulateOptions): SimulationResult {
  const model = options.model ?? DEFAULT_SIM_MODEL;
  validateModel(model);
  const spec = options.spec ?? DEFAULT_COMPILED_SPEC;
  const chooser = "choose" in options.policy ? options.policy : engineChooser(options.policy);
  const traffic = compileTraffic(model);
  const run: Run = {
    options,
    model,
    spec,
    catalogueHash: catalogueHash(model.catalogue),
    chooser,
    traffic,
    record: options.record ?? true,
    steps: [],
  };

  const visitors: VisitorOutcome[] = [];
  for (let index = 0; index < options.visitors; index++) visitors.push(simulateVisitor(run, index));
  return { seed: options.seed, policy: chooser.name, gamma: model.gamma, visitors, steps: run.steps };
}

interface Run {
  options: SimulateOptions;
  model: SimModel;
  spec: CompiledFeatureSpec;
  catalogueHash: string;
  chooser: Chooser;
  traffic: Traffic;
  record: boolean;
  steps: SimulatedStep[];
}

function simulateVisitor(run: Run, index: number): VisitorOutcome {
  const { model, spec, chooser, traffic, options } = run;
  const { seed } = options;
  const maxSteps = options.maxSteps ?? 100;
  const visitor = drawVisitor(traffic, seed, index);
  const summary = emptyOutcome(visitor, model);

  let memory = newVisitorMemory(visitor.id, visitor.arrival);
  let latent = arrivalState(model, visitor.segment);
  let ts = visitor.arrival;
  let referrer = visitor.referrer;
  let discount = 1;
  let previousStep = -1;

  for (let step = 0; step < maxSteps; step++) {
    const streams = stepStreams(seed, index, step);
    memory = recordPageView(memory, ts);
    const context: Context = {
      ...requestContext(traffic, visitor, ts, referrer, streams.world),
      ...visitorState(memory, ts),
      // Only a spec with profile fields reads them: without, the context is what it always was.
      ...(spec.profile.length > 0 ? { profile: shopProfile(spec, visitor, memory.purchases) } : {}),
    };
    const exposures = exposureCounts(memory, ts);
    const eligible = eligibleMask(model.catalogue, context, exposures);
    const decisionId = `sim-${seed}-${index}-${step}`;
    const choice = chooser.choose({ decisionId, context, exposures, eligible, latent });
    if (!eligible[choice.action])
      throw new Error(`${chooser.name} chose ineligible action ${choice.action} at ${decisionId}`);

    const promotion = model.catalogue[choice.action]!;
    const result = respondToPromotion(model, latent, context, choice.action, streams.dice);
    summarise(summary, model, choice.action, result, discount);

    if (run.record) {
      const current = run.steps.length;
      if (previousStep !== -1) run.steps[previousStep]!.next = current;
      previousStep = current;
      run.steps.push({
        decision: decisionRow(run, visitor, decisionId, ts, context, eligible, choice),
        outcomes: outcomeRows(decisionId, ts, result.outcomes),
        visitor: index,
        context,
        exposures,
        eligible,
        action: choice.action,
        reward: result.reward,
        latent,
        next: -1,
      });
    }

    memory = recordExposure(memory, promotion.id, ts);
    if (result.outcome.order !== ORDER.none) memory = recordPurchase(memory, ts);
    const next = advance(traffic, visitor, ts, referrer, result.latent, streams);
    if (!next) break;
    ({ ts, referrer, latent } = next);
    discount *= model.gamma;
  }
  summary.visits = memory.visits;
  return summary;
}

/** Adds one page view to a visitor's totals. */
export function summarise(
  summary: VisitorOutcome,
  model: SimModel,
  action: number,
  result: StepResult,
  discount: number,
): void {
  const promotion = model.catalogue[action]!;
  summary.pageViews++;
  summary.discountedValue += discount * result.reward;
  summary.reward += result.reward;
  summary.actions[promotion.id] = (summary.actions[promotion.id] ?? 0) + 1;
  if (result.outcome.clicked) summary.clicks++;
  if (result.outcome.order === ORDER.none) return;
  const value = result.response.orderValue;
  const cost = promotionCost(promotion, value);
  const refunded = result.outcome.order === ORDER.refunded ? value : 0;
  summary.conversions++;
  summary.revenue += value;
  summary.promotionCost += cost;
  summary.refunded += refunded;
  summary.margin += model.reward.marginRate * value - cost - model.reward.refundRate * refunded;
}

/** What a logged row holds instead of the visitor id (the edge logs an HMAC of it; the simulator, a fingerprint). */
export function visitorHash(visitorId: string): string {
  return fingerprint(`visitor:${visitorId}`);
}

export function emptyOutcome(visitor: VisitorProfile, model: SimModel): VisitorOutcome {
  return {
    visitorId: visitor.id,
    segment: model.segments[visitor.segment]!.id,
    pageViews: 0,
    visits: 0,
    discountedValue: 0,
    reward: 0,
    revenue: 0,
    margin: 0,
    promotionCost: 0,
    refunded: 0,
    conversions: 0,
    clicks: 0,
    actions: {},
  };
}

function decisionRow(
  run: Run,
  visitor: VisitorProfile,
  id: string,
  ts: number,
  context: Context,
  eligible: Uint8Array,
  choice: Choice,
): DecisionRow {
  const { spec, model } = run;
  return toDecisionRow({
    id,
    ts,
    visitorHash: visitorHash(visitor.id),
    policyVersion: run.chooser.name,
    featureSpecHash: spec.hash,
    catalogueHash: run.catalogueHash,
    context,
    features: encodeFeatures(spec, context),
    stateKey: stateKey(spec, context),
    eligible: model.catalogue.filter((_, i) => eligible[i]).map((p) => p.id),
    action: model.catalogue[choice.action]!.id,
    propensity: choice.propensity,
    explored: choice.explored,
    experiment: null,
    shadow: null,
  });
}

/** The site's reports: a click within seconds, the order within minutes, a refund days later (same order id). */
function outcomeRows(decisionId: string, ts: number, outcomes: readonly AttributedOutcome[]): OutcomeRow[] {
  return outcomes.map((o) => ({
    decisionId,
    ts: ts + OUTCOME_DELAY_MS[o.kind],
    kind: o.kind,
    value: o.value,
    eventKey: o.kind === "click" ? "" : `order-${decisionId}`,
  }));
}
