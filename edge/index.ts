import { DEFAULT_CATALOGUE_DOCUMENT } from "../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { LogShipper } from "./logging/log-shipper.ts";
import { ExperimentCache } from "./experiment/experiment-cache.ts";
import { PolicyCache } from "./policy/policy-cache.ts";
import { createWorker } from "./worker.ts";

// Module scope is the isolate: the decoded policy and the log counters live as long as it does.
export default createWorker({
  policies: new PolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC),
  experiments: new ExperimentCache(),
  logs: new LogShipper(),
});
