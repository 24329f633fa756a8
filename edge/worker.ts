import type { LogMessage } from "../shared/schema.ts";
import { createApp } from "./app.ts";
import type { EdgeDeps } from "./deps.ts";
import { consumeLogBatch } from "./logging/queue-consumer.ts";

/** The queue that holds log rows D1 refused through every retry (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "edge-promo-log-dlq";

/** The Worker's handlers over `deps`: HTTP on `fetch`; on `queue`, the log consumer and the dead-letter one. */
export function createWorker(deps: EdgeDeps) {
  const app = createApp(deps);
  return {
    fetch: app.fetch,
    queue: (batch, env) =>
      batch.queue === DEAD_LETTER_QUEUE
        ? deps.logs.replayDeadLetters(batch, env)
        : consumeLogBatch(batch, env, deps.logs.loss),
  } satisfies ExportedHandler<Env, LogMessage>;
}
