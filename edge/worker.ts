import type { LogMessage } from "../shared/schema.ts";
import { createApp } from "./app.ts";
import type { EdgeDeps } from "./deps.ts";
import { consumeLogBatch } from "./logging/queue-consumer.ts";

/** The Worker's handlers over `deps`: HTTP on `fetch`, the log consumer on `queue`. */
export function createWorker(deps: EdgeDeps) {
  const app = createApp(deps);
  return {
    fetch: app.fetch,
    queue: consumeLogBatch,
  } satisfies ExportedHandler<Env, LogMessage>;
}
