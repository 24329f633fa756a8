/**
 * A closed-loop HTTP load generator: `concurrency` loops, each sending its next request as soon as
 * the previous answer is read, over keep-alive connections (node:http Agent, one socket per loop),
 * for a fixed duration. Closed-loop means the figure is the server's sustainable throughput at that
 * concurrency, with the generator sharing the machine's cores (it is reported alongside).
 */
import http from "node:http";
import { nowMs, percentileSorted, round, sortedCopy } from "./stats.ts";
import type { AnswerHeaders, LoadRequest } from "./traffic.ts";

export interface LoadOptions {
  url: URL;
  concurrency: number;
  durationMs: number;
  /** The n-th request of the run (n counts from 0 across all loops). */
  request(n: number): LoadRequest;
  /** Sees every answer (e.g. to keep a visitor's cookie). */
  onResponse?(n: number, status: number, headers: AnswerHeaders, body: string): void;
}

export interface LoadResult {
  /** Requests answered (any status). */
  completed: number;
  /** Answers with status 200. */
  ok: number;
  /** Status → count, for everything but 200. */
  otherStatuses: Record<string, number>;
  /** Transport errors (connection reset, ...). */
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  /** 200 answers per second of wall time. */
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

function send(
  agent: http.Agent,
  url: URL,
  req: LoadRequest,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) {
      headers["content-type"] ??= "application/json";
      headers["content-length"] = Buffer.byteLength(req.body);
    }
    const r = http.request(
      { agent, host: url.hostname, port: url.port, method: req.method, path: req.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: options.concurrency,
    maxFreeSockets: options.concurrency,
  });
  const latencies: number[] = [];
  const otherStatuses: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = nowMs();
  const deadline = start + options.durationMs;

  const loop = async () => {
    while (nowMs() < deadline) {
      const n = next++;
      const t0 = nowMs();
      try {
        const res = await send(agent, options.url, options.request(n));
        latencies.push(nowMs() - t0);
        if (res.status === 200) ok++;
        else otherStatuses[res.status] = (otherStatuses[res.status] ?? 0) + 1;
        options.onResponse?.(n, res.status, res.headers, res.body);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const elapsedMs = nowMs() - start;
  agent.destroy();

  const sorted = sortedCopy(latencies);
  return {
    completed: latencies.length,
    ok,
    otherStatuses,
    errors,
    firstError,
    elapsedMs,
    rps: ok / (elapsedMs / 1000),
    latencyP50Ms: round(percentileSorted(sorted, 50)),
    latencyP99Ms: round(percentileSorted(sorted, 99)),
  };
}

/** Sums several runs of the same target (rounds of a measurement). */
export function combine(results: readonly LoadResult[]): {
  ok: number;
  completed: number;
  errors: number;
  elapsedMs: number;
  rps: number;
  otherStatuses: Record<string, number>;
} {
  const otherStatuses: Record<string, number> = {};
  let ok = 0;
  let completed = 0;
  let errors = 0;
  let elapsedMs = 0;
  for (const r of results) {
    ok += r.ok;
    completed += r.completed;
    errors += r.errors;
    elapsedMs += r.elapsedMs;
    for (const [s, c] of Object.entries(r.otherStatuses)) otherStatuses[s] = (otherStatuses[s] ?? 0) + c;
  }
  return { ok, completed, errors, elapsedMs, rps: ok / (elapsedMs / 1000), otherStatuses };
}
