/**
 * decide_rps, bare_hono_rps, decide_vs_bare_ratio: POST /v1/decide with everything on (body
 * validation, signed visitor cookie, DQN 64×64 from KV, decision-id HMAC, queued log → consumer → D1)
 * against a bare Hono route that only parses the body and answers JSON, served by the same Miniflare
 * instance (one workerd; /bare/* routed to the bare worker), driven by the same closed-loop generator
 * at the same concurrency, for the same total time, in the same run.
 *
 * Two diagnostic targets in the same instance split any gap: the edge with its logs dropped
 * (bench/edge-nolog-worker.ts, host nolog.bench) prices the request handling alone; the real edge
 * bundle bound to a queue that has no consumer (host unconsumed.bench) adds the LOG_QUEUE send but not
 * the consumer's D1 writes, which local emulation runs on the same cores as everything else (in
 * production they run apart from the isolate that answers).
 *
 * Method: many short cycles, each giving every target one window, in an order rotated every cycle,
 * so that whatever else the machine is doing falls on all targets alike. Each figure is the target's
 * 200 answers over its total window time. After each decide window the bench waits for the queue to
 * drain (not counted), so that the consumer's D1 writes do not slow the next target; the consumer
 * work that overlaps the decide window itself (most of it: batches leave at least every second)
 * counts against decide.
 */
import os from "node:os";
import { encodePolicy } from "../shared/policy/format.ts";
import { randomDqnPolicy } from "./fixtures.ts";
import { countDecisions, NOLOG_HOST, prepareEdge, startPlatform, UNCONSUMED_HOST, waitForDrain } from "./harness.ts";
import { combine, runLoad, type LoadResult } from "./load.ts";
import { percentile, round } from "./stats.ts";
import { decideTraffic, type DecideTraffic } from "./traffic.ts";
import { withTarget, type Measurement, type Metric } from "./types.ts";

/** Moderate on purpose: the generator and workerd share the machine's cores. */
export const LOAD_CONCURRENCY = 8;

type Target = "bare" | "decide" | "nolog" | "unconsumed";
const TARGETS: readonly Target[] = ["bare", "nolog", "unconsumed", "decide"];

function summary(results: readonly LoadResult[]) {
  const c = combine(results);
  const bad = Object.entries(c.otherStatuses).map(([s, n]) => `${n}×${s}`);
  if (c.errors > 0) bad.push(`${c.errors} transport errors (${results.find((r) => r.firstError)?.firstError})`);
  const p50s = results.map((r) => r.latencyP50Ms);
  const p99s = results.map((r) => r.latencyP99Ms);
  return {
    ...c,
    bad: bad.length > 0 ? bad.join(", ") : null,
    /** Median over windows of each window's latency percentile. */
    latencyP50Ms: round(percentile(p50s, 50)),
    latencyP99Ms: round(percentile(p99s, 50)),
  };
}

export const throughput: Measurement = {
  name: "throughput",
  description: "/v1/decide (logging on) vs a bare Hono route, same Miniflare, same load: req/s and ratio",
  async run({ quick, log }) {
    const platform = await startPlatform({ comparison: true, log });
    try {
      const edge = await prepareEdge(platform, encodePolicy(randomDqnPolicy([64, 64], "bench-dqn-64x64")), [
        NOLOG_HOST,
        UNCONSUMED_HOST,
      ]);
      const cycles = quick ? 3 : 12;
      const windowMs = quick ? 700 : 1_250;
      const warmupMs = quick ? 1_000 : 2_000;
      const concurrency = LOAD_CONCURRENCY;
      const traffic: Record<Target, DecideTraffic> = {
        decide: decideTraffic(),
        bare: decideTraffic({ pathPrefix: "/bare", cookies: false }),
        nolog: decideTraffic({ host: NOLOG_HOST }),
        unconsumed: decideTraffic({ host: UNCONSUMED_HOST }),
      };
      const results: Record<Target, LoadResult[]> = { decide: [], bare: [], nolog: [], unconsumed: [] };
      const drains: number[] = [];
      let decided = 0;

      const window = async (target: Target, durationMs: number) => {
        const t = traffic[target];
        const result = await runLoad({
          url: platform.url,
          concurrency,
          durationMs,
          request: t.request,
          onResponse: t.onResponse,
        });
        if (target === "decide") {
          decided += result.ok;
          drains.push((await waitForDrain(edge.db, decided, { stableMs: 3_000, maxMs: 20_000 })).waitedMs);
        }
        return result;
      };

      log(
        `throughput: warm-up ${warmupMs} ms per target, then ${cycles} cycles × ${TARGETS.length} windows of ${windowMs} ms (rotating order), concurrency ${concurrency}`,
      );
      for (const target of TARGETS) await window(target, warmupMs);
      for (let c = 0; c < cycles; c++) {
        const order = TARGETS.map((_, i) => TARGETS[(i + c) % TARGETS.length]!);
        for (const target of order) results[target].push(await window(target, windowMs));
        const line = TARGETS.map((t) => `${t} ${results[t].at(-1)!.rps.toFixed(0)}`).join(", ");
        log(`  cycle ${String(c + 1).padStart(2)}: ${line} req/s`);
      }

      const d = summary(results.decide);
      const b = summary(results.bare);
      const n = summary(results.nolog);
      const u = summary(results.unconsumed);
      if (d.ok === 0 || b.ok === 0)
        throw new Error(`no successful requests (decide: ${d.bad ?? "none"}; bare: ${b.bad ?? "none"})`);
      // Cycle by cycle, decide and bare ran seconds apart: the spread of their ratio shows the noise.
      const cycleRatios = results.decide.map((r, i) => r.rps / results.bare[i]!.rps);
      const stored = await countDecisions(edge.db);
      const common = {
        concurrency,
        cycles,
        window_s: windowMs / 1000,
        total_s_per_target: (cycles * windowMs) / 1000,
        cores: os.cpus().length,
        generator: "closed-loop node:http keep-alive, in the bench process",
      };
      const target = (s: ReturnType<typeof summary>) => ({
        requests: s.ok,
        non_200: s.bad,
        latency_p50_ms: s.latencyP50Ms,
        latency_p99_ms: s.latencyP99Ms,
        ratio_to_bare: round(s.rps / b.rps),
      });
      const metrics: Metric[] = [
        {
          metric: "decide_rps",
          value: round(d.rps),
          unit: "req/s",
          ...common,
          ...target(d),
          policy: `${edge.policyVersion} (${edge.policyBytes} bytes, served from KV)`,
          logging: "on (LOG_QUEUE → consumer → D1)",
          rows_in_d1_after: stored,
          rows_answered: decided,
          drain_ms_median: round(percentile(drains, 50)),
        },
        { metric: "bare_hono_rps", value: round(b.rps), unit: "req/s", ...common, ...target(b) },
        withTarget(
          {
            metric: "decide_vs_bare_ratio",
            value: round(d.rps / b.rps),
            unit: "ratio",
            ...common,
            cycle_ratio_p25: round(percentile(cycleRatios, 25)),
            cycle_ratio_median: round(percentile(cycleRatios, 50)),
            cycle_ratio_p75: round(percentile(cycleRatios, 75)),
            note:
              `one Miniflare (edge; bare Hono on /bare/*), closed loop, ${concurrency} keep-alive connections, ` +
              `${cycles} cycles × ${windowMs / 1000} s per target in rotating order, generator on the same ${os.cpus().length}-core machine; ` +
              `decide ${round(d.rps)} req/s (latency p50 ${d.latencyP50Ms} ms, p99 ${d.latencyP99Ms} ms) vs bare ${round(b.rps)} req/s (p50 ${b.latencyP50Ms} ms, p99 ${b.latencyP99Ms} ms); ` +
              `per-cycle ratio p25/median/p75 ${round(percentile(cycleRatios, 25))}/${round(percentile(cycleRatios, 50))}/${round(percentile(cycleRatios, 75))}` +
              (d.bad || b.bad ? `; non-200: decide ${d.bad ?? "none"}, bare ${b.bad ?? "none"}` : ""),
          },
          ">=",
          0.8,
        ),
        {
          metric: "decide_nolog_rps",
          value: round(n.rps),
          unit: "req/s",
          ...common,
          ...target(n),
          note:
            `diagnostic, same instance and load: the edge with its logs dropped reaches ${round(n.rps / b.rps)}× bare; ` +
            `with the queue send but no consumer, ${round(u.rps / b.rps)}× (decide_unconsumed_rps); ` +
            `with the consumer writing D1 on the same cores (the real thing), ${round(d.rps / b.rps)}×`,
        },
        { metric: "decide_unconsumed_rps", value: round(u.rps), unit: "req/s", ...common, ...target(u) },
      ];
      return metrics;
    } finally {
      await platform.dispose();
    }
  },
};
