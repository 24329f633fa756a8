import type { Catalogue } from "../../shared/catalogue.ts";
import type { Experiment } from "../../shared/experiment.ts";
import { rewardOf, type RewardSpec } from "../../shared/reward.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { decodeShadow } from "../../shared/shadow.ts";
import { outcomesByDecision } from "../../shared/log-row.ts";

export interface ShadowEstimate {
  version: string;
  decisions: number;
  visitors: number;
  /** What was served earned, per decision (immediate reward, on-policy). */
  servedPerDecision: number;
  /** The shadow's estimated immediate reward per decision: self-normalised importance sampling with the logged probabilities. */
  shadowPerDecision: { mean: number; lo: number; hi: number };
  /** Effective sample size of the importance weights. */
  ess: number;
  /** Mean probability the shadow gave the promotion that was served; share of decisions where its likeliest promotion was the one served. */
  agreement: { probability: number; top: number };
}

/**
 * The shadow policy's value on live traffic, off-policy: each decision of the experiment weighs in
 * with π_shadow(served action) / logged propensity, both exact, so the estimate is unbiased up to
 * the self-normalisation. The interval is 95%, with the variance clustered by visitor (a visitor's
 * decisions are not independent). Immediate reward only: what a shadow would have changed later in
 * a visitor's life is not observed.
 */
export function shadowEstimate(
  experiment: Experiment,
  decisions: readonly DecisionRow[],
  outcomes: readonly OutcomeRow[],
  catalogue: Catalogue,
  reward: RewardSpec,
): ShadowEstimate | null {
  const shadow = experiment.shadow;
  if (!shadow) return null;
  const index = new Map(catalogue.map((p, i) => [p.id, i]));
  const outcomesOf = outcomesByDecision(outcomes);
  const since = Date.parse(experiment.startedAt);
  const rows: { visitor: string; w: number; r: number; agree: number; top: boolean }[] = [];
  for (const d of decisions) {
    if (d.experimentId !== experiment.id || d.ts < since || d.shadow == null) continue;
    const probabilities = decodeShadow(d.shadow, catalogue.length);
    const action = index.get(d.action);
    if (
      probabilities === null ||
      probabilities.version !== shadow.version ||
      action === undefined ||
      !(d.propensity > 0)
    )
      continue;
    const p = probabilities.probabilities;
    const r = rewardOf(outcomesOf.get(d.id) ?? [], action, catalogue, reward);
    const top = p.indexOf(Math.max(...p));
    rows.push({ visitor: d.visitorHash, w: p[action]! / d.propensity, r, agree: p[action]!, top: top === action });
  }
  if (rows.length === 0) return null;
  let sumW = 0;
  let sumWr = 0;
  let sumW2 = 0;
  for (const { w, r } of rows) {
    sumW += w;
    sumWr += w * r;
    sumW2 += w * w;
  }
  const mean = sumW > 0 ? sumWr / sumW : Number.NaN;
  const byVisitor = new Map<string, number>();
  for (const { visitor, w, r } of rows) byVisitor.set(visitor, (byVisitor.get(visitor) ?? 0) + w * (r - mean));
  let variance = 0;
  for (const v of byVisitor.values()) variance += v * v;
  const se = Math.sqrt(variance) / sumW;
  return {
    version: shadow.version,
    decisions: rows.length,
    visitors: byVisitor.size,
    servedPerDecision: rows.reduce((a, b) => a + b.r, 0) / rows.length,
    shadowPerDecision: { mean, lo: mean - 1.96 * se, hi: mean + 1.96 * se },
    ess: (sumW * sumW) / sumW2,
    agreement: {
      probability: rows.reduce((a, b) => a + b.agree, 0) / rows.length,
      top: rows.filter((x) => x.top).length / rows.length,
    },
  };
}
