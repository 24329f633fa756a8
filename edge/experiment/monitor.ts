import { z } from "zod";
import type { Catalogue } from "../../shared/catalogue.ts";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import {
  judgeExperiment,
  monitorRuleOf,
  visitorTotalsByArm,
  type ExperimentLogRow,
  type ExperimentReport,
} from "../../shared/experiment-verdict.ts";
import type { Experiment } from "../../shared/experiment.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { OUTCOME_KINDS } from "../../shared/schema.ts";

const experimentRowSchema = z.object({
  decisionId: z.string(),
  visitorHash: z.string(),
  arm: z.string(),
  action: z.string(),
  kind: z.enum(OUTCOME_KINDS).nullable(),
  value: z.number().nullable(),
}) satisfies z.ZodType<ExperimentLogRow>;

/** The experiment's decisions since it started, one row per outcome (or one with none). */
async function experimentRows(db: D1Database, experiment: Experiment): Promise<ExperimentLogRow[]> {
  const { results } = await db
    .prepare(
      `SELECT d.id AS decisionId, d.visitor_hash AS visitorHash, d.arm AS arm, d.action AS action,
              o.kind AS kind, o.value AS value
         FROM decisions d LEFT JOIN outcomes o ON o.decision_id = d.id
        WHERE d.experiment_id = ? AND d.arm IS NOT NULL AND d.ts >= ?`,
    )
    .bind(experiment.id, Date.parse(experiment.startedAt))
    .all();
  return z.array(experimentRowSchema).parse(results);
}

/** The experiment's figures and verdict from D1, as the monitor (and the admin page) read them. */
export async function experimentReport(
  db: D1Database,
  catalogue: Catalogue,
  experiment: Experiment,
): Promise<ExperimentReport> {
  const totals = visitorTotalsByArm(await experimentRows(db, experiment), catalogue, DEFAULT_REWARD_SPEC);
  return judgeExperiment(experiment, totals, monitorRuleOf(experiment));
}

/**
 * One look of the monitor (the Worker's cron trigger): the running experiment's figures from D1,
 * judged by the written rule (shared/experiment-verdict.ts), then acted on with no human step:
 * a losing or guardrail-breaking arm ends the experiment (traffic returns to the current policy),
 * a winner is promoted when the experiment says `autoPromote`. Each look and its reason is kept in
 * KV (`experiment:look`, and `experiment:last` once it ends) for `/v1/policy` and the CLI.
 */
export async function monitorExperiment(env: Env, catalogue: Catalogue, now: Date): Promise<ExperimentReport | null> {
  const registry = new ExperimentRegistry(env.POLICY);
  const experiment = await registry.current();
  if (experiment === null) return null;
  const report = await experimentReport(env.DB, catalogue, experiment);
  const { verdict } = report;
  await registry.recordLook({
    experimentId: experiment.id,
    at: now.toISOString(),
    action: verdict.action,
    reason: verdict.reason,
  });
  if (verdict.action === "rollback") await registry.end("rolled_back", "monitor", verdict.reason, now);
  if (verdict.action === "promote") await registry.promote(verdict.arm, "monitor", verdict.reason, now);
  console.log(`experiment monitor, ${experiment.id}: ${verdict.action}: ${verdict.reason}`);
  return report;
}
