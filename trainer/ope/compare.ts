import type { IntervalEstimate } from "../../shared/policy/types.ts";
import type { Dataset } from "../data/dataset.ts";
import { fixedActionTarget, uniformTarget, type QModel, type TargetPolicy } from "./target-policy.ts";
import { empiricalBernsteinInterval, type TermRange } from "./bernstein.ts";
import { bootstrapIntervals, type Interval } from "./bootstrap.ts";
import type { EstimatorName, Horizon, PointEstimate, Resamplable } from "./estimate.ts";
import { visitorEpisodes } from "./episodes.ts";
import { memoisedQModel, memoisedTarget } from "./memo.ts";
import { doublyRobust, ips, onPolicyValue, snips } from "./one-step.ts";
import { onPolicyReturn, pdwis } from "./pdwis.ts";
import { fitRewardModel } from "./reward-model.ts";
import { firstOrderImprovement } from "./first-order.ts";
import { importanceRatios } from "./importance.ts";

/**
 * How intervals are computed.
 *
 * - `bootstrap` (the default): percentile bootstrap for every estimator. It needs no bound on the
 *   reward (a margin less costs and refunds has none), treats the self-normalised estimators
 *   (SNIPS, PDWIS) and DR alike, and resamples visitors for PDWIS so that a visitor's correlated
 *   episodes move together. It is approximate: when a few large importance weights dominate (a
 *   small ESS), it misses their rare extremes and under-covers, so read intervals with the ESS.
 *   Cost: replicates × units × estimates, e.g. ~8 s for 100k decisions at 1000 replicates.
 * - `empirical-bernstein`: a finite-sample guarantee for the estimators that are plain means of
 *   terms in a range known from `rewardRange` and the logging propensities (on-policy, IPS); the
 *   others have no such range and still use the bootstrap. Use it when the reward is bounded by
 *   construction (clicks) and a guarantee matters more than width.
 */
export type IntervalMethod =
  | { method: "bootstrap"; replicates: number }
  | { method: "empirical-bernstein"; rewardRange: readonly [number, number]; replicates: number };

export const DEFAULT_INTERVAL_METHOD: IntervalMethod = { method: "bootstrap", replicates: 1000 };

export interface EvaluationOptions {
  candidate: TargetPolicy;
  /** The published policy, when it is not the one that logged the data; it is what the candidate must beat. */
  current?: TargetPolicy;
  /**
   * The trained Q, used as DR's reward model when γ = 0 (it then predicts the immediate reward).
   * With γ > 0 it predicts the discounted return instead, a poor control variate for the immediate
   * reward, so a fitted one-step model ({@link fitRewardModel}) is used, as it is when none is given.
   */
  qModel?: QModel;
  gamma: number;
  /** Confidence level of every interval, e.g. 0.95. */
  level: number;
  seed: number;
  interval?: IntervalMethod;
}

export type PolicyRole = "candidate" | "current" | "logging" | "uniform" | "best-fixed";

export interface EstimateSummary extends IntervalEstimate {
  estimator: EstimatorName;
  horizon: Horizon;
  /** Effective sample size of the importance weights behind the estimate. */
  ess: number;
  interval: IntervalMethod["method"];
}

export interface PolicyEvaluation {
  name: string;
  role: PolicyRole;
  /** A caveat for the reader, such as the best fixed action being chosen on the same data. */
  note: string | null;
  /** Share of decisions each action would get on the logged states (logging policy: what it did). */
  actionMix: number[];
  estimates: EstimateSummary[];
  /** The estimate the publish gate compares: DR (on-policy mean) when γ = 0, PDWIS (on-policy return) when γ > 0. */
  primary: EstimateSummary;
}

/**
 * The candidate minus the policy it would replace, on the same logged episodes and the same
 * resamples: the difference the publish gate decides on. Its interval is that of the difference
 * itself, far tighter than two separate intervals when the policies agree on most decisions.
 */
export interface Improvement extends IntervalEstimate {
  estimator: EstimatorName;
  /** The policy subtracted: the current one, or else the logging policy. */
  against: string;
  /** The smaller effective sample size of the two estimates' importance weights. */
  ess: number;
}

/** Plain data: serialisable as JSON (a NaN, for an unidentified value, becomes null) and renderable as a report. */
export interface PolicyComparison {
  decisions: number;
  visitors: number;
  episodes: number;
  gamma: number;
  level: number;
  seed: number;
  intervalMethod: IntervalMethod["method"];
  bootstrapReplicates: number;
  rewardModel: "trained-q" | "fitted";
  actions: string[];
  policies: PolicyEvaluation[];
  improvement: Improvement;
}

/**
 * Off-policy estimates, with intervals, of the candidate, the current policy (when given), the
 * logging policy (its logged rewards, on-policy), uniform random, and the best single promotion.
 *
 * Every interval uses the same seed, hence the same resamples of the same units: comparisons
 * between policies are paired.
 */
export function evaluatePolicies(dataset: Dataset, options: EvaluationOptions): PolicyComparison {
  const { gamma, level, seed } = options;
  const interval = options.interval ?? DEFAULT_INTERVAL_METHOD;
  if (dataset.steps.length < 2) throw new RangeError("off-policy evaluation needs at least 2 logged decisions");
  const useTrainedQ = options.qModel !== undefined && gamma === 0;
  const rewardModel = memoisedQModel(useTrainedQ && options.qModel ? options.qModel : fitRewardModel(dataset));

  // Memoised once: the candidate's and the current policy's probabilities serve their own estimates
  // and the paired difference alike.
  const candidate = memoisedTarget(options.candidate);
  const current = options.current ? memoisedTarget(options.current) : undefined;
  const estimateTarget = (target: TargetPolicy, role: PolicyRole, note: string | null = null): PendingEvaluation => {
    const estimates = [ips(dataset, target), snips(dataset, target), doublyRobust(dataset, target, rewardModel)];
    if (gamma > 0) estimates.push(pdwis(dataset, target, gamma));
    return {
      name: target.name,
      role,
      note,
      actionMix: targetActionMix(dataset, target),
      estimates,
      primary: gamma > 0 ? "pdwis" : "dr",
    };
  };
  const best = bestFixedAction(dataset);
  const pending: PendingEvaluation[] = [
    estimateTarget(candidate, "candidate"),
    ...(current ? [estimateTarget(current, "current")] : []),
    {
      name: "logging",
      role: "logging",
      note: "its own logged rewards (on-policy)",
      actionMix: loggedActionMix(dataset),
      estimates: gamma > 0 ? [onPolicyValue(dataset), onPolicyReturn(dataset, gamma)] : [onPolicyValue(dataset)],
      primary: gamma > 0 ? "on-policy-return" : "on-policy",
    },
    estimateTarget(memoisedTarget(uniformTarget()), "uniform"),
    estimateTarget(memoisedTarget(best.target), "best-fixed", best.note),
  ];

  const against = pending[1]!;
  const difference =
    gamma > 0
      ? firstOrderImprovement(
          dataset,
          importanceRatios(dataset, candidate),
          current ? importanceRatios(dataset, current) : new Float64Array(dataset.steps.length).fill(1),
          gamma,
        )
      : pairedDifference(pending[0]!, against);
  const intervals = intervalsOf(dataset, [...pending.flatMap((p) => p.estimates), difference], interval, level, seed);
  const differenceBounds = intervals.get(difference)!.bounds;
  const visitors = visitorEpisodes(dataset);
  return {
    decisions: dataset.steps.length,
    visitors: visitors.length,
    episodes: visitors.reduce((sum, v) => sum + v.episodes.length, 0),
    gamma,
    level,
    seed,
    intervalMethod: interval.method,
    bootstrapReplicates: interval.replicates,
    rewardModel: useTrainedQ ? "trained-q" : "fitted",
    actions: [...dataset.actions],
    policies: pending.map((p) => policyEvaluation(p, intervals, level)),
    improvement: {
      estimator: difference.estimator,
      value: difference.value,
      lower: differenceBounds.lower,
      upper: differenceBounds.upper,
      level,
      against: against.name,
      ess: difference.ess,
    },
  };
}

/**
 * With γ = 0: the candidate's primary estimate (DR) minus the other policy's, as one estimate over the same units:
 * every resample recomputes both on the same visitors (or decisions), so the noise they share cancels.
 */
function pairedDifference(candidate: PendingEvaluation, other: PendingEvaluation): PointEstimate {
  const a = primaryOf(candidate);
  const b = primaryOf(other);
  if (a.sample.unit !== b.sample.unit) throw new Error("paired estimates must resample the same units");
  return {
    estimator: a.estimator,
    horizon: a.horizon,
    value: a.value - b.value,
    ess: Math.min(a.ess, b.ess),
    sample: {
      unit: a.sample.unit,
      unitCount: a.sample.unitCount,
      statistic: (counts) => a.sample.statistic(counts) - b.sample.statistic(counts),
    },
    meanTerms: null,
  };
}

function primaryOf(pending: PendingEvaluation): PointEstimate {
  const estimate = pending.estimates.find((e) => e.estimator === pending.primary);
  if (!estimate) throw new Error(`no ${pending.primary} estimate for ${pending.name}`);
  return estimate;
}

/**
 * The estimates the publish gate compares: the candidate's primary estimate, and that of the
 * current policy — the one passed as `current`, or else the logging policy, which is what ran
 * while the data was collected.
 */
export function gateEstimates(comparison: PolicyComparison): { candidate: EstimateSummary; current: EstimateSummary } {
  const byRole = (role: PolicyRole) => comparison.policies.find((p) => p.role === role);
  const candidate = byRole("candidate");
  const current = byRole("current") ?? byRole("logging");
  if (!candidate || !current) throw new Error("a comparison always holds the candidate and the logging policy");
  return { candidate: candidate.primary, current: current.primary };
}

/** A policy's point estimates, before their intervals are computed (jointly, across policies). */
interface PendingEvaluation {
  name: string;
  role: PolicyRole;
  note: string | null;
  actionMix: Float64Array;
  estimates: PointEstimate[];
  primary: EstimatorName;
}

interface IntervalOf {
  bounds: Interval;
  method: IntervalMethod["method"];
}

function policyEvaluation(
  pending: PendingEvaluation,
  intervals: Map<PointEstimate, IntervalOf>,
  level: number,
): PolicyEvaluation {
  const estimates = pending.estimates.map((estimate): EstimateSummary => {
    const { bounds, method } = intervals.get(estimate)!;
    return {
      estimator: estimate.estimator,
      horizon: estimate.horizon,
      value: estimate.value,
      lower: bounds.lower,
      upper: bounds.upper,
      level,
      ess: estimate.ess,
      interval: method,
    };
  });
  const primary = estimates.find((e) => e.estimator === pending.primary);
  if (!primary) throw new Error(`no ${pending.primary} estimate for ${pending.name}`);
  return {
    name: pending.name,
    role: pending.role,
    note: pending.note,
    actionMix: [...pending.actionMix],
    estimates,
    primary,
  };
}

/**
 * The fixed action with the highest SNIPS estimate. Choosing the maximum of several noisy estimates
 * on the same data that then estimates it is optimistic (the winner's curse), and the note says so.
 */
function bestFixedAction(dataset: Dataset): { target: TargetPolicy; note: string } {
  let best: { target: TargetPolicy; value: number } | null = null;
  for (const [a, action] of dataset.actions.entries()) {
    const target = fixedActionTarget(a, `always ${action}`);
    const value = snips(dataset, target).value;
    if (Number.isFinite(value) && (best === null || value > best.value)) best = { target, value };
  }
  if (best === null) throw new Error("no fixed action has an identifiable value on these logs");
  return {
    target: best.target,
    note: `chosen as the best of ${dataset.actions.length} fixed actions by SNIPS on the same data, so its estimate is optimistic; ${dataset.actions[0]} where the action is not eligible`,
  };
}

/**
 * Every estimate's interval: empirical Bernstein where the method asks for it and the estimator's
 * terms have a known range; otherwise the bootstrap, run once per kind of resampling unit for all
 * the estimates over those units (see {@link bootstrapIntervals}).
 */
function intervalsOf(
  dataset: Dataset,
  estimates: readonly PointEstimate[],
  interval: IntervalMethod,
  level: number,
  seed: number,
): Map<PointEstimate, IntervalOf> {
  const minPropensity = dataset.steps.reduce((least, step) => Math.min(least, step.propensity), 1);
  const result = new Map<PointEstimate, IntervalOf>();
  const toBootstrap = new Map<Resamplable["unit"], PointEstimate[]>();
  for (const estimate of estimates) {
    const range =
      interval.method === "empirical-bernstein"
        ? knownTermRange(estimate.estimator, interval.rewardRange, minPropensity)
        : null;
    const terms = estimate.meanTerms;
    if (range !== null && terms !== null) {
      result.set(estimate, { bounds: empiricalBernsteinInterval(terms, range, level), method: "empirical-bernstein" });
    } else {
      const group = toBootstrap.get(estimate.sample.unit);
      if (group) group.push(estimate);
      else toBootstrap.set(estimate.sample.unit, [estimate]);
    }
  }
  for (const group of toBootstrap.values()) {
    const bounds = bootstrapIntervals(
      group.map((e) => e.sample),
      { level, replicates: interval.replicates, seed },
    );
    group.forEach((estimate, i) => result.set(estimate, { bounds: bounds[i]!, method: "bootstrap" }));
  }
  return result;
}

/**
 * The range of an estimator's per-decision terms implied by the reward range alone, where there is
 * one: rewards for on-policy; w·r with 0 ≤ w ≤ 1/(least logged propensity) for IPS — the logging
 * policy's floor, a property of its design rather than of the outcomes. DR's terms depend on the
 * reward model, so it has none.
 */
function knownTermRange(
  estimator: EstimatorName,
  [low, high]: readonly [number, number],
  minPropensity: number,
): TermRange | null {
  switch (estimator) {
    case "on-policy":
      return { min: low, max: high };
    case "ips":
      return { min: Math.min(0, low / minPropensity), max: Math.max(0, high / minPropensity) };
    default:
      return null;
  }
}

function targetActionMix(dataset: Dataset, target: TargetPolicy): Float64Array {
  const mix = new Float64Array(dataset.actions.length);
  for (const step of dataset.steps) {
    const p = target.probabilities(dataset.states[step.state]!);
    for (let a = 0; a < mix.length; a++) mix[a]! += p[a]! / dataset.steps.length;
  }
  return mix;
}

function loggedActionMix(dataset: Dataset): Float64Array {
  const mix = new Float64Array(dataset.actions.length);
  for (const step of dataset.steps) mix[step.action]! += 1 / dataset.steps.length;
  return mix;
}
