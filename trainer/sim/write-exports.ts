import { readFile } from "node:fs/promises";
import type { ExposureCounts } from "../../shared/catalogue.ts";
import { contextSchema, type Context } from "../../shared/context.ts";
import { writeJsonl } from "../runtime/jsonl.ts";
import type { Chooser } from "./chooser.ts";
import { DEFAULT_SIM_MODEL, type SimModel } from "./model.ts";
import { respond } from "./response.ts";
import type { SimulationResult } from "./simulate.ts";

/**
 * One logged step, self-contained: what a learner outside this project needs (`--export-logs`).
 * `reward` is `rewardOf` of the step's outcomes, exactly what the trainer computes from the D1 rows.
 */
export interface LogRow {
  decisionId: string;
  /** The visitor's hash, as in decision rows: steps of one visitor form one trajectory. */
  visitor: string;
  ts: number;
  context: Context;
  /** Action ids that were eligible. */
  eligible: string[];
  action: string;
  propensity: number;
  reward: number;
  /** The same visitor's next page view; null when the visitor did not come back (or the run was cut). */
  next: { decisionId: string; context: Context; eligible: string[] } | null;
}

/** The visitor's hidden state at a page view, by segment id. */
export interface LatentSnapshot {
  segment: string;
  reference: number;
  fatigue: number;
  loyalty: number;
}

/**
 * One row of the fully observed evaluation set (`--export-eval`): a logged page view and the exact
 * expected reward of every action there.
 *
 * `expectedReward[a]` = E[reward | the visitor's latent state at that page view, the context, a]:
 * the expectation over click, order and refund given everything that was true at that moment,
 * computed in closed form. Conditioning on the true latent state (rather than on a posterior given
 * the context) is what "as the edge would experience it" means here: it is the reward the edge
 * would have got in expectation had it chosen `a` for this very visitor, and the visitor's state
 * depends on the logging policy's past choices, which no posterior over the context alone can know.
 * Averaged over rows, Σ_a π(a | context) · expectedReward[a] is a policy's expected one-step reward
 * on the logged distribution of page views, without any outcome noise; it is unbiased for what the
 * segment-posterior expectation would give, because the rows sample the segments in proportion.
 * Ineligible actions are included for completeness; a policy must give them probability 0.
 */
export interface EvalRow {
  decisionId: string;
  visitor: string;
  ts: number;
  context: Context;
  /** Per-promotion exposures in the last 7 days: with the context, what eligibility was computed from. */
  exposures: ExposureCounts;
  eligible: string[];
  expectedReward: Record<string, number>;
  /** For full-information policies (the oracles) and per-segment breakdowns. */
  latent: LatentSnapshot;
}

export function logRowsOf(result: SimulationResult, model: SimModel = DEFAULT_SIM_MODEL): LogRow[] {
  const ids = model.catalogue.map((p) => p.id);
  const eligibleIds = (mask: Uint8Array) => ids.filter((_, i) => mask[i]);
  return result.steps.map((step) => {
    const next = step.next === -1 ? null : result.steps[step.next]!;
    return {
      decisionId: step.decision.id,
      visitor: step.decision.visitorHash,
      ts: step.decision.ts,
      context: step.context,
      eligible: eligibleIds(step.eligible),
      action: ids[step.action]!,
      propensity: step.decision.propensity,
      reward: step.reward,
      next: next && { decisionId: next.decision.id, context: next.context, eligible: eligibleIds(next.eligible) },
    };
  });
}

export function evalRowsOf(result: SimulationResult, model: SimModel = DEFAULT_SIM_MODEL): EvalRow[] {
  const ids = model.catalogue.map((p) => p.id);
  return result.steps.map((step) => ({
    decisionId: step.decision.id,
    visitor: step.decision.visitorHash,
    ts: step.decision.ts,
    context: step.context,
    exposures: step.exposures,
    eligible: ids.filter((_, i) => step.eligible[i]),
    expectedReward: Object.fromEntries(
      ids.map((id, a) => [id, respond(model, step.latent, step.context, a).expectedReward]),
    ),
    latent: { ...step.latent, segment: model.segments[step.latent.segment]!.id },
  }));
}

/** Writes rows as JSONL, a thousand lines per write; the file appears whole or not at all. */
function writeRows(path: string, rows: Iterable<unknown>): Promise<number> {
  return writeJsonl(path, async (writer) => {
    let count = 0;
    let chunk: unknown[] = [];
    for (const row of rows) {
      chunk.push(row);
      if (chunk.length === 1000) {
        await writer.write(chunk);
        count += chunk.length;
        chunk = [];
      }
    }
    await writer.write(chunk);
    return count + chunk.length;
  });
}

export function writeLogsJsonl(path: string, rows: Iterable<LogRow>): Promise<number> {
  return writeRows(path, rows);
}

export function writeEvalJsonl(path: string, rows: Iterable<EvalRow>): Promise<number> {
  return writeRows(path, rows);
}

/** Reads an evaluation set back, refusing rows whose context or rewards are malformed. */
export async function readEvalJsonl(path: string): Promise<EvalRow[]> {
  const text = await readFile(path, "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const row = JSON.parse(line) as EvalRow;
      const context = contextSchema.safeParse(row.context);
      if (!context.success) throw new Error(`${path}:${i + 1}: bad context: ${context.error.message}`);
      if (
        !Array.isArray(row.eligible) ||
        typeof row.expectedReward !== "object" ||
        typeof row.latent?.segment !== "string"
      ) {
        throw new Error(`${path}:${i + 1}: not an evaluation row`);
      }
      return { ...row, context: context.data };
    });
}

export interface EvalScore {
  policy: string;
  rows: number;
  /** Mean over rows of Σ_a π(a | row) · expectedReward[a]: the exact expected one-step reward. */
  value: number;
  /** Standard error of `value` over rows (the spread of contexts, not outcome noise: there is none). */
  standardError: number;
  /** Expected share of rows given each action. */
  actionShare: Record<string, number>;
}

/** Scores any policy exactly on an evaluation set, from its action probabilities (no sampling). */
export function scoreOnEvalSet(
  chooser: Chooser,
  rows: readonly EvalRow[],
  model: SimModel = DEFAULT_SIM_MODEL,
): EvalScore {
  const ids = model.catalogue.map((p) => p.id);
  const segmentIndex = new Map(model.segments.map((s, i) => [s.id, i]));
  const share = new Float64Array(ids.length);
  const values = rows.map((row) => {
    const segment = segmentIndex.get(row.latent.segment);
    if (segment === undefined) throw new RangeError(`row ${row.decisionId}: unknown segment ${row.latent.segment}`);
    const eligible = Uint8Array.from(ids, (id) => (row.eligible.includes(id) ? 1 : 0));
    const p = chooser.probabilities({
      decisionId: row.decisionId,
      context: row.context,
      exposures: row.exposures,
      eligible,
      latent: { ...row.latent, segment },
    });
    let value = 0;
    ids.forEach((id, a) => {
      if (p[a]! > 0 && !eligible[a])
        throw new Error(`${chooser.name} gives ineligible ${id} probability ${p[a]} at ${row.decisionId}`);
      value += p[a]! * row.expectedReward[id]!;
      share[a]! += p[a]!;
    });
    return value;
  });
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, n - 1);
  return {
    policy: chooser.name,
    rows: n,
    value: mean,
    standardError: Math.sqrt(variance / n),
    actionShare: Object.fromEntries(ids.map((id, a) => [id, share[a]! / n])),
  };
}
