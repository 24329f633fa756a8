import type { IntervalEstimate, Policy } from "../../shared/policy/types.ts";

export interface GateOptions {
  /** Publish even when the candidate does not beat the current policy (`--force`). */
  force: boolean;
}

export interface GateDecision {
  allowed: boolean;
  reason: string;
}

/**
 * Whether a candidate may be published: only when the lower end of its interval beats (is strictly
 * above) the current policy's estimate, so that a candidate is published on evidence that it is
 * better, not on a lucky point estimate. With no current policy there is nothing to beat. `force`
 * publishes anyway, and the reason says what was overridden.
 */
export function publishGate(
  candidate: IntervalEstimate,
  current: IntervalEstimate | null,
  options: GateOptions,
): GateDecision {
  const verdict = judge(candidate, current);
  if (verdict.allowed || !options.force) return verdict;
  return { allowed: true, reason: `forced with --force, overriding: ${verdict.reason}` };
}

function judge(candidate: IntervalEstimate, current: IntervalEstimate | null): GateDecision {
  if (!Number.isFinite(candidate.lower)) {
    return {
      allowed: false,
      reason: `the candidate has no usable ${candidate.estimator} lower bound (the logs barely cover what it would do)`,
    };
  }
  const bound = `the candidate's ${describeLevel(candidate)} lower bound ${formatValue(candidate.lower)} (${candidate.estimator})`;
  if (current === null) return { allowed: true, reason: `${bound}; there is no current policy to beat` };
  if (!Number.isFinite(current.value)) {
    return { allowed: false, reason: `the current policy has no usable ${current.estimator} estimate to compare with` };
  }
  const baseline = `the current policy's estimate ${formatValue(current.value)} (${current.estimator})`;
  return candidate.lower > current.value
    ? { allowed: true, reason: `${bound} beats ${baseline}` }
    : { allowed: false, reason: `${bound} does not beat ${baseline}; publish with --force to override` };
}

function describeLevel(estimate: IntervalEstimate): string {
  return `${Math.round(estimate.level * 1000) / 10}%`;
}

function formatValue(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/**
 * What the candidate must beat: the estimate of the current policy on the candidate's own evaluation
 * data, recorded at training time as its baseline. Comparing with an estimate made on other data
 * would compare two different populations, so a baseline that is not the current policy refuses.
 */
export function gatePublication(candidate: Policy, currentVersion: string | null, force: boolean): GateDecision {
  const training = candidate.meta.training;
  if (!training?.estimate)
    return refuseUnlessForced("the policy carries no offline estimate; train it with `promo train`", force);
  const baseline = training.baseline ?? null;
  const served = currentVersion ?? "fallback";
  if (baseline === null) return publishGate(training.estimate, null, { force });
  if (baseline.version !== served) {
    return refuseUnlessForced(
      `the candidate was compared with ${baseline.version}, but ${served} is current now; retrain`,
      force,
    );
  }
  return publishGate(training.estimate, baseline.estimate, { force });
}

function refuseUnlessForced(reason: string, force: boolean): GateDecision {
  return force
    ? { allowed: true, reason: `forced with --force, overriding: ${reason}` }
    : { allowed: false, reason: `${reason}, or publish with --force` };
}
