import type { ExperimentCache } from "./experiment/experiment-cache.ts";
import type { LogShipper } from "./logging/log-shipper.ts";
import type { PolicyCache } from "./policy/policy-cache.ts";

/** The isolate-wide state the handlers share. index.ts holds the Worker's; tests build their own. */
export interface EdgeDeps {
  policies: PolicyCache;
  experiments: ExperimentCache;
  logs: LogShipper;
}

export type AppEnv = { Bindings: Env };
