/**
 * Diagnostic only: the edge Worker exactly as edge/index.ts builds it, except that decision logs are
 * dropped instead of sent to LOG_QUEUE. Served beside the real edge (host `nolog.bench`), it splits
 * the gap between /v1/decide and the bare route into "handling the request" and "logging it"
 * (the queue send, and the consumer's D1 writes that local emulation runs on the same cores).
 * Never deployed; nothing reads its (absent) logs.
 */
import { DEFAULT_CATALOGUE_DOCUMENT } from "../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { LogShipper } from "../edge/logging/log-shipper.ts";
import { ExperimentCache } from "../edge/experiment/experiment-cache.ts";
import { PolicyCache } from "../edge/policy/policy-cache.ts";
import { createWorker } from "../edge/worker.ts";

class DiscardingShipper extends LogShipper {
  override ship(): void {}
}

export default createWorker({
  policies: new PolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC),
  experiments: new ExperimentCache(),
  logs: new DiscardingShipper(),
});
