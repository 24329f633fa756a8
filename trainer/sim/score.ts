import type { DecisionEngine } from "../../shared/decide.ts";
import type { CompiledFeatureSpec } from "../../shared/features.ts";
import { fixedChooser, type Chooser } from "./chooser.ts";
import { DEFAULT_SIM_MODEL, type SimModel } from "./model.ts";
import { simulateTraffic, type VisitorOutcome } from "./simulate.ts";

/** A mean with its two-sided 95% confidence interval (Student t over seeds). */
export interface Interval {
  mean: number;
  lower: number;
  upper: number;
  halfWidth: number;
}

/** Per-visitor means of one seed's run. */
export interface SeedScore {
  seed: number;
  value: number;
  reward: number;
  revenue: number;
  margin: number;
  promotionCost: number;
  conversions: number;
  pageViews: number;
}

export interface PolicyScore {
  policy: string;
  gamma: number;
  visitorsPerSeed: number;
  /** Long-term value per visitor: E[Σ γ^t reward_t], the quantity the oracle maximises. */
  value: Interval;
  /** Undiscounted reward per visitor. */
  reward: Interval;
  /** Means per visitor over all seeds. */
  revenue: number;
  margin: number;
  promotionCost: number;
  conversions: number;
  pageViews: number;
  /** Conversions per page view. */
  conversionRate: number;
  /** Share of page views given each action. */
  actionShare: Record<string, number>;
  perSeed: SeedScore[];
}

export interface ScoreOptions {
  /** At least two: the interval is over seeds. Default 1..5. */
  seeds?: readonly number[];
  /** Visitors per seed. Default 2000. */
  visitors?: number;
  model?: SimModel;
  spec?: CompiledFeatureSpec;
  maxSteps?: number;
}

/**
 * Long-term value per visitor of a policy, with a confidence interval over seeds. Every policy scored
 * with the same seeds meets the same visitors (common random numbers), so compare two policies with
 * {@link pairedDifference}, whose interval is much tighter than the two intervals suggest.
 */
export function scorePolicy(policy: Chooser | DecisionEngine, options: ScoreOptions = {}): PolicyScore {
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  if (seeds.length < 2) throw new RangeError("scorePolicy needs at least two seeds for its interval");
  const visitors = options.visitors ?? 2000;
  const model = options.model ?? DEFAULT_SIM_MODEL;
  const actions: Record<string, number> = {};
  let name = "";
  const perSeed = seeds.map((seed) => {
    const run = simulateTraffic({
      seed,
      visitors,
      policy,
      model,
      spec: options.spec,
      maxSteps: options.maxSteps,
      record: false,
    });
    name = run.policy;
    for (const visitor of run.visitors)
      for (const [id, n] of Object.entries(visitor.actions)) actions[id] = (actions[id] ?? 0) + n;
    return seedScore(seed, run.visitors);
  });
  const mean = (pick: (s: SeedScore) => number) => perSeed.reduce((a, s) => a + pick(s), 0) / perSeed.length;
  const pageViews = mean((s) => s.pageViews);
  const totalActions = Object.values(actions).reduce((a, b) => a + b, 0);
  return {
    policy: name,
    gamma: model.gamma,
    visitorsPerSeed: visitors,
    value: interval(perSeed.map((s) => s.value)),
    reward: interval(perSeed.map((s) => s.reward)),
    revenue: mean((s) => s.revenue),
    margin: mean((s) => s.margin),
    promotionCost: mean((s) => s.promotionCost),
    conversions: mean((s) => s.conversions),
    pageViews,
    conversionRate: mean((s) => s.conversions) / pageViews,
    actionShare: Object.fromEntries(model.catalogue.map((p) => [p.id, (actions[p.id] ?? 0) / totalActions])),
    perSeed,
  };
}

function seedScore(seed: number, visitors: readonly VisitorOutcome[]): SeedScore {
  const mean = (pick: (v: VisitorOutcome) => number) => visitors.reduce((a, v) => a + pick(v), 0) / visitors.length;
  return {
    seed,
    value: mean((v) => v.discountedValue),
    reward: mean((v) => v.reward),
    revenue: mean((v) => v.revenue),
    margin: mean((v) => v.margin),
    promotionCost: mean((v) => v.promotionCost),
    conversions: mean((v) => v.conversions),
    pageViews: mean((v) => v.pageViews),
  };
}

/** Value of `a` minus value of `b`, paired by seed (both must have been scored on the same seeds). */
export function pairedDifference(a: PolicyScore, b: PolicyScore): Interval {
  if (a.perSeed.length !== b.perSeed.length || a.perSeed.some((s, i) => s.seed !== b.perSeed[i]!.seed)) {
    throw new RangeError("paired differences need both policies scored on the same seeds");
  }
  return interval(a.perSeed.map((s, i) => s.value - b.perSeed[i]!.value));
}

/** mean ± t(0.975, n−1) · sd/√n. */
export function interval(samples: readonly number[]): Interval {
  const n = samples.length;
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const variance = samples.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const halfWidth = tQuantile975(n - 1) * Math.sqrt(variance / n);
  return { mean, lower: mean - halfWidth, upper: mean + halfWidth, halfWidth };
}

const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Two-sided 95% Student t quantile; beyond 30 degrees of freedom, 1.96 + 2.46/df (within 0.3%). */
function tQuantile975(df: number): number {
  return df <= T975.length ? T975[df - 1]! : 1.96 + 2.46 / df;
}

/** The best single promotion (each scored always-on where eligible, the default elsewhere), and all of them. */
export function bestFixedPromotion(options: ScoreOptions = {}): {
  actionId: string;
  chooser: Chooser;
  score: PolicyScore;
  all: PolicyScore[];
} {
  const catalogue = (options.model ?? DEFAULT_SIM_MODEL).catalogue;
  const all = catalogue.map((promotion) => scorePolicy(fixedChooser(promotion.id, catalogue), options));
  let best = 0;
  all.forEach((score, i) => {
    if (score.value.mean > all[best]!.value.mean) best = i;
  });
  const actionId = catalogue[best]!.id;
  return { actionId, chooser: fixedChooser(actionId, catalogue), score: all[best]!, all };
}
