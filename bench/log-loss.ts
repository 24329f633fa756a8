/**
 * log_rows_sent, log_rows_stored, log_rows_lost: sustained load on /v1/decide (60 s; --quick: 5 s)
 * with logging on, then a bounded wait for the queue to drain (until D1 holds every row, or its count
 * has not moved for 10 s, or 90 s pass), then the decisions rows in D1 against the 200 answers.
 * Every 200 answer is a decision the client saw and the trainer must find: lost = sent − stored.
 * The edge's own counters (queue send failures, direct D1 writes, rows it knows it lost) come along.
 */
import os from "node:os";
import { encodePolicy } from "../shared/policy/format.ts";
import { randomDqnPolicy } from "./fixtures.ts";
import { edgeStatus, prepareEdge, startPlatform, waitForDrain } from "./harness.ts";
import { runLoad } from "./load.ts";
import { round } from "./stats.ts";
import { LOAD_CONCURRENCY } from "./throughput.ts";
import { decideTraffic } from "./traffic.ts";
import { withTarget, type Measurement, type Metric } from "./types.ts";

export const logLoss: Measurement = {
  name: "log-loss",
  description: "sustained /v1/decide load (60 s, --quick 5 s), then decisions rows in D1 vs 200 answers",
  async run({ quick, log }) {
    const platform = await startPlatform({ comparison: false, log });
    try {
      const edge = await prepareEdge(platform, encodePolicy(randomDqnPolicy([64, 64], "bench-dqn-64x64")));
      const durationMs = quick ? 5_000 : 60_000;
      const traffic = decideTraffic();
      log(`log-loss: ${durationMs / 1000} s of /v1/decide at concurrency ${LOAD_CONCURRENCY}`);
      const result = await runLoad({
        url: platform.url,
        concurrency: LOAD_CONCURRENCY,
        durationMs,
        request: traffic.request,
        onResponse: traffic.onResponse,
      });
      const sent = result.ok;
      log(`log-loss: ${sent} decisions answered 200 (${result.rps.toFixed(0)} req/s); waiting for the queue to drain`);
      const drain = await waitForDrain(edge.db, sent, { stableMs: 10_000, maxMs: 90_000 });
      const status = await edgeStatus(platform);
      const lost = sent - drain.stored;
      const bad = Object.entries(result.otherStatuses)
        .map(([s, n]) => `${n}×${s}`)
        .join(", ");
      const common = {
        duration_s: durationMs / 1000,
        concurrency: LOAD_CONCURRENCY,
        cores: os.cpus().length,
        rps: round(result.rps),
      };
      const metrics: Metric[] = [
        {
          metric: "log_rows_sent",
          value: sent,
          unit: "rows",
          ...common,
          non_200: bad || null,
          transport_errors: result.errors,
        },
        {
          metric: "log_rows_stored",
          value: drain.stored,
          unit: "rows",
          ...common,
          drain_ms: round(drain.waitedMs),
          drain_end: drain.reason,
        },
        withTarget(
          {
            metric: "log_rows_lost",
            value: lost,
            unit: "rows",
            ...common,
            edge_log_loss: status.logLoss ?? null,
            note:
              `${durationMs / 1000} s at ${LOAD_CONCURRENCY} connections (${round(result.rps)} req/s): ${sent} answered 200, ${drain.stored} rows in D1 ` +
              `after a ${round(drain.waitedMs / 1000)} s drain (${drain.reason}); edge counters ${JSON.stringify(status.logLoss ?? "n/a")}` +
              (bad ? `; non-200 answers: ${bad}` : ""),
          },
          "==",
          0,
        ),
      ];
      if (sent === 0)
        throw new Error(`no 200 answers (${bad || "none"}; first transport error: ${result.firstError ?? "none"})`);
      return metrics;
    } finally {
      await platform.dispose();
    }
  },
};
