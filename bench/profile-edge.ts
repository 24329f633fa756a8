/**
 * A CPU profile of the edge under the bench's decide load, attributed per request: where the
 * microseconds of one /v1/decide go, by function (inclusive and self). Not a measurement (it prints
 * no targets); a tool for whoever works on decide_vs_bare_ratio.
 *
 *   node_modules/.bin/node bench/profile-edge.ts [--nolog] [--seconds 6] [--top 40]
 *   node_modules/.bin/node bench/profile-edge.ts --isolate [--requests 20000] [--top 40]
 *
 * `--nolog` profiles the diagnostic edge that drops its logs (bench/edge-nolog-worker.ts) instead of
 * the real one. `--isolate` profiles the requests of decide_cpu_workerd_request_us instead: the edge's
 * handler called back to back inside workerd, with no sockets and no load generator on the cores. The profile comes from workerd's DevTools inspector (V8 sampling profiler). Its times
 * are wall time of the worker's thread: on a machine busy with other work they are inflated. With the
 * inspector attached, optimised hot loops also read slower than they run (decide() shows ~10× its
 * decide-cpu-workerd figure), so take the shares as a guide to where to look, not as costs.
 * Function names and lines are those of the wrangler bundle.
 */
import { parseArgs } from "node:util";
import { encodePolicy } from "../shared/policy/format.ts";
import { randomDqnPolicy } from "./fixtures.ts";
import { startRequestCpuWorker } from "./decide-request-cpu.ts";
import { NOLOG_HOST, prepareEdge, startPlatform } from "./harness.ts";
import { runLoad } from "./load.ts";
import { LOAD_CONCURRENCY } from "./throughput.ts";
import { decideTraffic } from "./traffic.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const INSPECTOR_PORT = 9339;

async function inspector(workerName: string) {
  const list = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const target = list.find((t) => t.webSocketDebuggerUrl.endsWith(`core:user:${workerName}`));
  if (!target) throw new Error(`no inspector target for ${workerName}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? message.error);
    if (message.id !== undefined) pending.delete(message.id);
  });
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve as (result: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    /** Samples the worker's thread while `work` runs (every 200 µs), then detaches. */
    async profile<T>(work: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
      await call("Profiler.enable");
      await call("Profiler.setSamplingInterval", { interval: 200 });
      await call("Profiler.start");
      const result = await work();
      const { profile } = await call<{ profile: CpuProfile }>("Profiler.stop");
      ws.close();
      return { result, profile };
    },
  };
}

/** Microseconds per request by function: inclusive (with callees) and self. */
function attribute(profile: CpuProfile, requests: number, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  profile.samples.forEach((node, i) => timeOf.set(node, (timeOf.get(node) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const name = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"}:${n.callFrame.lineNumber + 1}`;
  for (const [id, us] of timeOf) {
    const leaf = byId.get(id)!;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = name(byId.get(cur)!);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const table = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${(us / requests).toFixed(1).padStart(9)} µs/request  ${k}`)
      .join("\n");
  const idle = self.get("(idle):0") ?? 0;
  const total = [...timeOf.values()].reduce((a, b) => a + b, 0);
  return `${requests} requests; thread not idle ${((total - idle) / requests).toFixed(0)} µs/request (wall)\n\ninclusive:\n${table(inclusive)}\n\nself:\n${table(self)}`;
}

const { values } = parseArgs({
  options: {
    nolog: { type: "boolean", default: false },
    isolate: { type: "boolean", default: false },
    seconds: { type: "string", default: "6" },
    requests: { type: "string", default: "20000" },
    top: { type: "string", default: "40" },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const policy = encodePolicy(randomDqnPolicy([64, 64], "bench-dqn-64x64"));

/** Under the bench's HTTP load: the edge (or, with --nolog, the edge that drops its logs). */
async function profileUnderLoad(): Promise<string> {
  const worker = values.nolog ? "bench-edge-nolog" : "edge";
  const platform = await startPlatform({ comparison: true, log, inspectorPort: INSPECTOR_PORT });
  try {
    await prepareEdge(platform, policy, [NOLOG_HOST]);
    const traffic = values.nolog ? decideTraffic({ host: NOLOG_HOST }) : decideTraffic();
    const load = (durationMs: number) =>
      runLoad({
        url: platform.url,
        concurrency: LOAD_CONCURRENCY,
        durationMs,
        request: traffic.request,
        onResponse: traffic.onResponse,
      });
    await load(2_000);
    const devtools = await inspector(worker);
    const profile = await devtools.profile(() => load(Number(values.seconds) * 1000));
    return `${worker}: ${profile.result.rps.toFixed(0)} req/s at concurrency ${LOAD_CONCURRENCY}\n${attribute(profile.profile, profile.result.ok, Number(values.top))}`;
  } finally {
    await platform.dispose();
  }
}

/** With --isolate: the requests of decide_cpu_workerd_request_us, back to back in one isolate, no sockets. */
async function profileInIsolate(): Promise<string> {
  const { mf } = await startRequestCpuWorker(policy, log, { inspectorPort: INSPECTOR_PORT });
  try {
    const n = Number(values.requests);
    const run = async (count: number) => (await mf.dispatchFetch(`http://bench/?n=${count}`)).json();
    for (let i = 0; i < 5; i++) await run(1_000);
    const devtools = await inspector("bench-request-cpu");
    const profile = await devtools.profile(() => run(n));
    return `bench-request-cpu: ${JSON.stringify(profile.result)}\n${attribute(profile.profile, n, Number(values.top))}`;
  } finally {
    await mf.dispose();
  }
}

process.stdout.write(`${values.isolate ? await profileInIsolate() : await profileUnderLoad()}\n`);
