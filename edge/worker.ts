import type { LogMessage } from "../shared/schema.ts";
import { createApp } from "./app.ts";
import type { EdgeDeps } from "./deps.ts";
import { archivePending, deleteArchivedBefore, retentionCutoff } from "./archive/archiver.ts";
import { readConfig } from "./config.ts";
import { monitorExperiment } from "./experiment/monitor.ts";
import { publishThrottles } from "./budget/budget-monitor.ts";
import { consumeLogBatch } from "./logging/queue-consumer.ts";

/** The minute trigger of wrangler.toml: it runs the policy check and the budget monitor only. */
export const BUDGET_CRON = "* * * * *";

/** The queue that holds log rows D1 refused through every retry (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "edge-promo-log-dlq";

/**
 * The Worker's handlers over `deps`: HTTP on `fetch`; on `queue`, the log consumer and the
 * dead-letter one; on `scheduled` (a cron trigger, or `/cdn-cgi/handler/scheduled` in dev), a check
 * of the published policy, so that a swap is verified, and a bad one reported, before traffic asks;
 * a look of the experiment monitor; the budget monitor's throttles; and the log archive: new rows
 * copied to R2, archived rows past the retention window deleted from D1. The minute trigger
 * ({@link BUDGET_CRON}) runs only the policy check (which reads the catalogue) and the budget monitor.
 */
export function createWorker(deps: EdgeDeps) {
  const app = createApp(deps);
  return {
    fetch: app.fetch,
    scheduled: async (controller, env) => {
      // Each job runs even when one before it fails; the run then fails with every error.
      const minute = controller.cron === BUDGET_CRON;
      const jobs: [string, () => Promise<string>][] = [
        [
          "policy check",
          async () => {
            const served = await deps.policies.current(env.POLICY, Date.now(), 0);
            const problem = deps.policies.problem;
            return `serving ${served.engine.version} (${served.source})${problem ? `; ${problem}` : ""}`;
          },
        ],
        [
          "experiment monitor",
          async () => {
            const report = await monitorExperiment(
              env,
              deps.policies.catalogue.document.promotions,
              new Date(controller.scheduledTime),
            );
            return report ? `${report.experimentId}: ${report.verdict.action}` : "no experiment";
          },
        ],
        [
          "budget monitor",
          async () => {
            const run = await publishThrottles(
              env.DB,
              env.POLICY,
              deps.policies.catalogue.document.promotions,
              controller.scheduledTime,
            );
            return run.budgeted === 0
              ? "no budgeted promotion"
              : `${run.budgeted} budgeted, throttled: ${run.throttled.join(", ") || "none"}`;
          },
        ],
        [
          "archive",
          async () => {
            const run = await archivePending(env.DB, env.ARCHIVE);
            const cutoff = await retentionCutoff(env.DB, controller.scheduledTime, readConfig(env).retentionMs);
            const deleted = await deleteArchivedBefore(env.DB, cutoff);
            return (
              `${run.decisions} decisions and ${run.outcomes} outcomes into ${run.parts} parts${run.more ? " (more left for the next run)" : ""}; ` +
              `deleted from D1 before ${new Date(cutoff).toISOString()}: ${deleted.decisions} decisions, ${deleted.outcomes} outcomes`
            );
          },
        ],
      ];
      const errors: unknown[] = [];
      for (const [name, job] of jobs) {
        if (minute && name !== "policy check" && name !== "budget monitor") continue;
        try {
          console.log(`scheduled ${name}: ${await job()}`);
        } catch (error) {
          console.error(`scheduled ${name} failed:`, error);
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, `${errors.length} scheduled jobs failed`);
    },
    queue: (batch, env) =>
      batch.queue === DEAD_LETTER_QUEUE
        ? deps.logs.replayDeadLetters(batch, env)
        : consumeLogBatch(batch, env, deps.logs.loss),
  } satisfies ExportedHandler<Env, LogMessage>;
}
