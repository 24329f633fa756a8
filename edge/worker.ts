import type { LogMessage } from "../shared/schema.ts";
import { createApp } from "./app.ts";
import type { EdgeDeps } from "./deps.ts";
import { monitorExperiment } from "./experiment/monitor.ts";
import { consumeLogBatch } from "./logging/queue-consumer.ts";

/** The queue that holds log rows D1 refused through every retry (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "edge-promo-log-dlq";

/**
 * The Worker's handlers over `deps`: HTTP on `fetch`; on `queue`, the log consumer and the
 * dead-letter one; on `scheduled` (a cron trigger, or `/cdn-cgi/handler/scheduled` in dev), a check
 * of the published policy, so that a swap is verified, and a bad one reported, before traffic asks,
 * and a look of the experiment monitor.
 */
export function createWorker(deps: EdgeDeps) {
  const app = createApp(deps);
  return {
    fetch: app.fetch,
    scheduled: async (controller, env) => {
      const served = await deps.policies.current(env.POLICY, Date.now(), 0);
      const problem = deps.policies.problem;
      console.log(
        `scheduled policy check: serving ${served.engine.version} (${served.source})${problem ? `; ${problem}` : ""}`,
      );
      await monitorExperiment(env, deps.policies.catalogue, new Date(controller.scheduledTime));
    },
    queue: (batch, env) =>
      batch.queue === DEAD_LETTER_QUEUE
        ? deps.logs.replayDeadLetters(batch, env)
        : consumeLogBatch(batch, env, deps.logs.loss),
  } satisfies ExportedHandler<Env, LogMessage>;
}
