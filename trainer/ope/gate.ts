import type { Policy, TrainingSummary } from "../../shared/policy/types.ts";

export type ImprovementEvidence = NonNullable<TrainingSummary["improvement"]>;

export interface GateOptions {
  /** Publish even when the evidence does not say the candidate is better (`--force`). */
  force: boolean;
  /** Least effective sample size behind the paired difference; default {@link MIN_GATE_ESS}. */
  minEss?: number;
}

export interface GateDecision {
  allowed: boolean;
  reason: string;
}

/**
 * Below this many effective decisions (Kish's ESS of the importance weights) the bootstrap
 * interval of a weighted estimate under-covers: a handful of large weights decide it, and a
 * resample of visitors rarely shows how wrong they can be. With it, the gate published none of 20
 * truly worse candidates on the simulator (`npm run bench -- --only sim-learning`,
 * gate_false_publish_rate).
 */
export const MIN_GATE_ESS = 1000;

/**
 * Whether a candidate may replace the current policy: only when the lower end of the interval of
 * the paired difference, candidate minus current on the same logged episodes, is above 0, and that
 * difference rests on at least `minEss` effective episodes. The estimator is named in the evidence
 * (first-order, trainer/ope/first-order.ts, when γ > 0; the paired doubly robust difference when γ = 0).
 * `force` publishes anyway, and the reason says what was overridden.
 */
export function publishGate(evidence: ImprovementEvidence, options: GateOptions): GateDecision {
  const verdict = judge(evidence, options.minEss ?? MIN_GATE_ESS);
  if (verdict.allowed || !options.force) return verdict;
  return { allowed: true, reason: `forced with --force, overriding: ${verdict.reason}` };
}

function judge({ against, estimate, ess }: ImprovementEvidence, minEss: number): GateDecision {
  const level = `${Math.round(estimate.level * 1000) / 10}%`;
  const difference =
    `candidate − ${against} = ${formatValue(estimate.value)} ` +
    `[${formatValue(estimate.lower)}, ${formatValue(estimate.upper)}] (${estimate.estimator}, ${level}, paired, ESS ${Math.round(ess)})`;
  if (!Number.isFinite(estimate.lower)) {
    return { allowed: false, reason: `${difference}: no usable interval (the logs barely cover what it would do)` };
  }
  if (!(ess >= minEss)) {
    return { allowed: false, reason: `${difference}: ESS below the ${minEss} the interval needs to be trusted` };
  }
  return estimate.lower > 0
    ? { allowed: true, reason: `${difference}: better, with the whole interval above 0` }
    : { allowed: false, reason: `${difference}: not shown to be better; publish with --force to override` };
}

function formatValue(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/**
 * The gate for a trained policy file: its recorded improvement must be over what is served now.
 * Evidence against another policy compares with something the edge no longer runs, so it refuses.
 */
export function gatePublication(candidate: Policy, currentVersion: string | null, force: boolean): GateDecision {
  const evidence = candidate.meta.training?.improvement ?? null;
  const served = currentVersion ?? "fallback";
  if (evidence === null) {
    return refuseUnlessForced("the policy carries no paired offline comparison; train it with `promo train`", force);
  }
  if (evidence.against !== served) {
    return refuseUnlessForced(
      `the candidate was compared with ${evidence.against}, but ${served} is current now; retrain`,
      force,
    );
  }
  return publishGate(evidence, { force });
}

function refuseUnlessForced(reason: string, force: boolean): GateDecision {
  return force
    ? { allowed: true, reason: `forced with --force, overriding: ${reason}` }
    : { allowed: false, reason: `${reason}, or publish with --force` };
}
