/**
 * Whole /v1/decide requests run back to back inside one workerd request, for
 * decide_cpu_workerd_request_us: the edge exactly as edge/index.ts builds it (its app, policy cache
 * and log shipper) and, for scale, the bare Hono app of the throughput bench, each driven by the
 * bench's own decide traffic (bodies, headers, and visitors whose cookies come back). No sockets and
 * no other process: the figure is the isolate's own work per request, which a loaded machine cannot
 * blur the way it blurs req/s. workerd's clock ticks in whole milliseconds, so a call runs `n`
 * requests and reports the elapsed time; the caller divides.
 */
import { DEFAULT_CATALOGUE_DOCUMENT } from "../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { LogShipper } from "../edge/logging/log-shipper.ts";
import { ExperimentCache } from "../edge/experiment/experiment-cache.ts";
import { PolicyCache } from "../edge/policy/policy-cache.ts";
import { createWorker } from "../edge/worker.ts";
import bare from "./bare-worker.ts";
import { decideTraffic } from "./traffic.ts";
import type { RequestCpuReport } from "./worker-reports.ts";

const edge = createWorker({
  policies: new PolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC),
  experiments: new ExperimentCache(),
  logs: new LogShipper(),
});
const targets = {
  edge: { handler: edge.fetch, traffic: decideTraffic() },
  bare: { handler: bare.fetch, traffic: decideTraffic({ pathPrefix: "/bare", cookies: false }) },
};
let next = 0;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const target = targets[url.searchParams.get("target") === "bare" ? "bare" : "edge"];
    const n = Math.max(1, Math.min(100_000, Number(url.searchParams.get("n") ?? "1000") || 1000));
    const sends: Promise<unknown>[] = [];
    // The handlers use only waitUntil; the rest of a real ExecutionContext is the runtime's.
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => void sends.push(promise),
      passThroughOnException: () => {},
      props: {},
    } as unknown as ExecutionContext;
    let failures = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const k = next++;
      const { method, path, headers, body } = target.traffic.request(k);
      const response = await target.handler(new Request(new URL(path, url), { method, headers, body }), env, ctx);
      const text = await response.text();
      if (response.status !== 200) failures++;
      const cookie = response.headers.get("set-cookie");
      target.traffic.onResponse(k, response.status, cookie === null ? {} : { "set-cookie": [cookie] }, text);
    }
    const handledMs = performance.now() - start;
    await Promise.all(sends);
    const report: RequestCpuReport = { n, handledMs, withSendsMs: performance.now() - start, failures };
    return Response.json(report);
  },
};
