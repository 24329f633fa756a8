import type { LogMessage } from "../shared/schema.ts";

/** The Worker's bindings, named as in wrangler.toml. */
export interface Env {
  POLICY: KVNamespace;
  DB: D1Database;
  LOG_QUEUE: Queue<LogMessage>;
  DECISION_SIGNING_KEY: string;
  POLICY_REFRESH_SECONDS?: string;
  DECISION_MAX_AGE_SECONDS?: string;
  MAX_BODY_BYTES?: string;
  SIMULATED_CLOCK?: string;
}
