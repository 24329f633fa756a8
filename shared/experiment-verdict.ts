import { promotionCost, type Catalogue } from "./catalogue.ts";
import {
  alwaysValidInterval,
  armFigures,
  differenceOf,
  mixtureLikelihoodRatio,
  sampleRatioCheck,
  type ArmFigures,
  type Estimate,
  type Interval,
  type SampleRatioCheck,
  type VisitorTotals,
} from "./experiment-stats.ts";
import type { Experiment } from "./experiment.ts";
import { rewardOf, type RewardSpec } from "./reward.ts";
import type { OutcomeKind } from "./schema.ts";

/** One decision of the experiment, or one outcome of it (a decision with outcomes gives one row per outcome). */
export interface ExperimentLogRow {
  decisionId: string;
  visitorHash: string;
  arm: string;
  action: string;
  kind: OutcomeKind | null;
  value: number | null;
}

/** Per arm, per visitor totals, from the experiment's decisions joined to their outcomes. */
export function visitorTotalsByArm(
  rows: readonly ExperimentLogRow[],
  catalogue: Catalogue,
  reward: RewardSpec,
): Map<string, VisitorTotals[]> {
  const index = new Map(catalogue.map((p, i) => [p.id, i]));
  const byVisitor = new Map<string, { arm: string; totals: VisitorTotals; decisions: Set<string> }>();
  for (const row of rows) {
    const at = index.get(row.action);
    if (at === undefined) continue;
    const key = `${row.arm}\u0000${row.visitorHash}`;
    let entry = byVisitor.get(key);
    if (!entry) {
      const totals = { decisions: 0, clicks: 0, conversions: 0, revenue: 0, promotionCost: 0, margin: 0, value: 0 };
      entry = { arm: row.arm, totals, decisions: new Set() };
      byVisitor.set(key, entry);
    }
    const t = entry.totals;
    if (!entry.decisions.has(row.decisionId)) {
      entry.decisions.add(row.decisionId);
      t.decisions++;
    }
    if (row.kind === null) continue;
    const value = row.value ?? 0;
    t.value += rewardOf([{ kind: row.kind, value }], at, catalogue, reward);
    if (row.kind === "click") t.clicks++;
    if (row.kind === "conversion") {
      t.conversions++;
      t.revenue += value;
      t.margin += reward.marginRate * value;
      t.promotionCost += promotionCost(catalogue[at]!, value);
    }
  }
  const byArm = new Map<string, VisitorTotals[]>();
  for (const { arm, totals } of byVisitor.values()) {
    const list = byArm.get(arm) ?? [];
    list.push(totals);
    byArm.set(arm, list);
  }
  return byArm;
}

/** How the monitor judges an experiment. Guardrail margins are in the metric's own units. */
export interface MonitorRule {
  /** The false-positive rate of every decision below, however often the monitor looks. */
  alpha: number;
  /** The mSPRT mixture's spread: the effect sizes it is tuned to find, in per-visitor standard deviations. */
  tauInSds: number;
  /** No verdict before every arm has this many visitors. */
  minVisitorsPerArm: number;
  /** How much more promotion cost per visitor the candidate may spend than the control. */
  maxPromotionCostIncrease: number;
  /** How much lower (absolute, per decision) the candidate's conversion rate may be. */
  maxConversionRateDrop: number;
  /** Move a confident winner to 100% without a human step. */
  autoPromote: boolean;
}

/** The rule an experiment runs under: its own overrides over the defaults. */
export function monitorRuleOf(experiment: Experiment): MonitorRule {
  return { ...DEFAULT_MONITOR_RULE, ...experiment.monitor };
}

export const DEFAULT_MONITOR_RULE: MonitorRule = {
  alpha: 0.05,
  tauInSds: 0.05,
  minVisitorsPerArm: 200,
  maxPromotionCostIncrease: 0.5,
  maxConversionRateDrop: 0.005,
  autoPromote: false,
};

export interface Comparison {
  arm: string;
  /** candidate − control in value per visitor: the estimate, and the always-valid interval. */
  value: Estimate & Interval;
  promotionCost: Estimate & Interval;
  conversionRate: Estimate & Interval;
  /**
   * Return on promotion spend against the control: incremental margin per visitor over incremental
   * promotion cost per visitor; null when the arm spends no more than the control.
   */
  roi: number | null;
  /** The mSPRT's p-value at this look for "no difference in value" (1/Λ; the monitor stops at the first crossing of α). */
  pValue: number;
}

export type Verdict =
  | { action: "continue"; reason: string }
  | { action: "rollback"; reason: string }
  | { action: "promote"; arm: string; reason: string }
  | { action: "winner"; arm: string; reason: string };

export interface ExperimentReport {
  experimentId: string;
  control: string;
  arms: Record<string, ArmFigures>;
  comparisons: Comparison[];
  sampleRatio: SampleRatioCheck;
  verdict: Verdict;
}

function compare(d: Estimate, tau: number, alpha: number): Estimate & Interval {
  return { ...d, ...alwaysValidInterval(d, tau, alpha) };
}

/**
 * The written-down decision rule, the same for the monitor and for `promo experiment status`. The
 * first arm serving the control (else the first arm) is the baseline; every other arm is compared
 * with it on always-valid intervals, so the monitor may look every few minutes:
 * 1. no verdict until every arm has `minVisitorsPerArm` visitors;
 * 2. a sample-ratio mismatch (p < 0.001) stops the experiment: its arms are not comparable;
 * 3. an arm that breaks a guardrail with confidence (its promotion cost per visitor above the
 *    control's by more than the margin, or its conversion rate below by more than the margin), or
 *    that loses value per visitor with confidence (interval below 0), is rolled back: the whole
 *    experiment stops and traffic returns to the current policy;
 * 4. an arm that wins with confidence (interval above 0) is the winner; with `autoPromote` it is
 *    promoted (only the canary case, one candidate arm, and only when it is a policy);
 * 5. otherwise the experiment continues.
 */
export function judgeExperiment(
  experiment: Experiment,
  totals: ReadonlyMap<string, readonly VisitorTotals[]>,
  rule: MonitorRule,
): ExperimentReport {
  const baseline = experiment.arms.find((a) => a.serves.type === "control") ?? experiment.arms[0]!;
  const arms: Record<string, ArmFigures> = {};
  for (const arm of experiment.arms) arms[arm.name] = armFigures(totals.get(arm.name) ?? []);
  const control = arms[baseline.name]!;
  const comparisons: Comparison[] = experiment.arms
    .filter((arm) => arm.name !== baseline.name)
    .map((arm) => {
      const figures = arms[arm.name]!;
      // τ on each metric's own scale: the per-visitor standard deviation behind the difference's
      // standard error (se / sqrt(1/n₁ + 1/n₂)), times tauInSds.
      const scale = rule.tauInSds / Math.sqrt(1 / figures.visitors + 1 / control.visitors);
      const judged = (candidate: Estimate, baselineFigure: Estimate) => {
        const d = differenceOf(candidate, baselineFigure);
        return { d, tau: d.se * scale };
      };
      const value = judged(figures.valuePerVisitor, control.valuePerVisitor);
      const cost = judged(figures.promotionCostPerVisitor, control.promotionCostPerVisitor);
      const conversion = judged(figures.conversionRate, control.conversionRate);
      return {
        arm: arm.name,
        value: compare(value.d, value.tau, rule.alpha),
        promotionCost: compare(cost.d, cost.tau, rule.alpha),
        conversionRate: compare(conversion.d, conversion.tau, rule.alpha),
        pValue: Math.min(1, 1 / mixtureLikelihoodRatio(value.d, value.tau)),
        roi: cost.d.mean > 0 ? (figures.marginPerVisitor.mean - control.marginPerVisitor.mean) / cost.d.mean : null,
      };
    });
  const sampleRatio = sampleRatioCheck(
    experiment.arms.map((a) => arms[a.name]!.visitors),
    experiment.arms.map((a) => a.weight),
  );
  return {
    experimentId: experiment.id,
    control: baseline.name,
    arms,
    comparisons,
    sampleRatio,
    verdict: verdictOf(experiment, arms, comparisons, sampleRatio, rule),
  };
}

function verdictOf(
  experiment: Experiment,
  arms: Record<string, ArmFigures>,
  comparisons: readonly Comparison[],
  sampleRatio: SampleRatioCheck,
  rule: MonitorRule,
): Verdict {
  const small = Object.entries(arms).filter(([, f]) => f.visitors < rule.minVisitorsPerArm);
  if (small.length > 0) {
    return {
      action: "continue",
      reason: `waiting for ${rule.minVisitorsPerArm} visitors per arm (${small.map(([n, f]) => `${n}: ${f.visitors}`).join(", ")})`,
    };
  }
  if (sampleRatio.mismatch) {
    return {
      action: "rollback",
      reason: `sample ratio mismatch: visitors per arm are not the weights (χ² = ${sampleRatio.chiSquare.toFixed(1)}, ${sampleRatio.degreesOfFreedom} df, p < 0.001)`,
    };
  }
  for (const c of comparisons) {
    if (c.promotionCost.lo > rule.maxPromotionCostIncrease) {
      return {
        action: "rollback",
        reason: `${c.arm} breaks the promotion-cost guardrail: +${c.promotionCost.lo.toFixed(3)} per visitor at least, the margin is ${rule.maxPromotionCostIncrease}`,
      };
    }
    if (c.conversionRate.hi < -rule.maxConversionRateDrop) {
      return {
        action: "rollback",
        reason: `${c.arm} breaks the conversion-rate guardrail: ${c.conversionRate.hi.toFixed(4)} at most, the margin is −${rule.maxConversionRateDrop}`,
      };
    }
    if (c.value.hi < 0) {
      return {
        action: "rollback",
        reason: `${c.arm} loses value per visitor with confidence: [${c.value.lo.toFixed(3)}, ${c.value.hi.toFixed(3)}] (always-valid ${(1 - rule.alpha) * 100}%)`,
      };
    }
  }
  const winners = comparisons.filter((c) => c.value.lo > 0);
  if (winners.length === 0)
    return { action: "continue", reason: "no arm differs from the control with confidence yet" };
  const best = winners.reduce((a, b) => (b.value.mean > a.value.mean ? b : a));
  const reason = `${best.arm} wins value per visitor with confidence: [${best.value.lo.toFixed(3)}, ${best.value.hi.toFixed(3)}]`;
  const arm = experiment.arms.find((a) => a.name === best.arm)!;
  const promotable = rule.autoPromote && comparisons.length === 1 && arm.serves.type === "policy";
  return promotable ? { action: "promote", arm: best.arm, reason } : { action: "winner", arm: best.arm, reason };
}
