/**
 * decide_cpu_workerd_request_us: the isolate's work for one whole /v1/decide (body, validation,
 * cookie check and re-signing, features, inference from the DQN 64×64 in KV, decision id, offer token,
 * log row and its hand-off to the queue), measured inside workerd with no sockets: the edge's own
 * fetch handler called back to back by bench/request-cpu-worker.ts. The bare Hono route is measured
 * the same way, so that bare_cpu_workerd_request_us / decide_cpu_workerd_request_us is the ceiling
 * that decide_vs_bare_ratio would reach if nothing but the isolate's CPU differed between the two.
 * Each figure includes building the Request object and reading the answer, as the runtime does per
 * request. Mean per request: the median over rounds of (elapsed ms of n requests) / n, after warm-up.
 */
import { encodePolicy } from "../shared/policy/format.ts";
import { randomDqnPolicy } from "./fixtures.ts";
import { bundledWorker, bundleWorker, edgeBindings, newMiniflare, publishPolicy, UNCONSUMED_QUEUE } from "./harness.ts";
import { median, round } from "./stats.ts";
import type { Miniflare } from "miniflare";
import type { Measurement } from "./types.ts";
import type { RequestCpuReport } from "./worker-reports.ts";

/**
 * Miniflare serving bench/request-cpu-worker.ts with the edge's bindings and a published DQN 64×64;
 * its logs go to a queue nobody consumes: the consumer's D1 writes are not this isolate's work.
 */
export async function startRequestCpuWorker(
  policyBytes: Uint8Array,
  log: (message: string) => void,
  extra: { inspectorPort?: number } = {},
): Promise<{ mf: Miniflare; version: string }> {
  const script = await bundleWorker("bench-request-cpu", "bench/request-cpu-worker.ts", log);
  const mf = newMiniflare(
    [
      {
        ...bundledWorker("bench-request-cpu", script),
        ...edgeBindings(),
        queueProducers: { LOG_QUEUE: { queueName: UNCONSUMED_QUEUE } },
      },
    ],
    extra,
  );
  try {
    const kv = await mf.getKVNamespace("POLICY");
    const { version } = await publishPolicy(kv as unknown as Parameters<typeof publishPolicy>[0], policyBytes);
    return { mf, version };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

export const decideRequestCpu: Measurement = {
  name: "decide-request-cpu",
  description: "one whole /v1/decide request inside workerd, no sockets (mean per request), beside the bare route",
  async run({ quick, log }) {
    const { mf, version } = await startRequestCpuWorker(
      encodePolicy(randomDqnPolicy([64, 64], "bench-dqn-64x64")),
      log,
    );
    try {
      const n = quick ? 300 : 1_000;
      const rounds = quick ? 4 : 15;
      const call = async (target: "edge" | "bare") => {
        const report = (await (
          await mf.dispatchFetch(`http://bench/?target=${target}&n=${n}`)
        ).json()) as RequestCpuReport;
        if (report.failures > 0) throw new Error(`${report.failures} of ${n} ${target} requests did not answer 200`);
        return report;
      };
      log(`decide-request-cpu: ${rounds} rounds × ${n} requests per target inside workerd (policy ${version})`);
      for (let i = 0; i < 3; i++) await Promise.all([call("edge"), call("bare")].map((p) => p.then(() => {})));
      const edgeUs: number[] = [];
      const edgeWithSendsUs: number[] = [];
      const bareUs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const e = await call("edge");
        const b = await call("bare");
        edgeUs.push((e.handledMs * 1000) / n);
        edgeWithSendsUs.push((e.withSendsMs * 1000) / n);
        bareUs.push((b.handledMs * 1000) / n);
      }
      const decideUs = median(edgeUs);
      const bareMedianUs = median(bareUs);
      return [
        {
          metric: "decide_cpu_workerd_request_us",
          value: round(decideUs),
          unit: "us",
          n,
          rounds,
          with_last_batch_sent_us: round(median(edgeWithSendsUs)),
          note: `median over ${rounds} rounds of the mean of ${n} back-to-back /v1/decide requests through the edge's fetch handler inside workerd (DQN 64×64 from KV, cookies kept per visitor, logs handed to LOG_QUEUE in batches); with every batch sent: ${round(median(edgeWithSendsUs))} µs`,
        },
        {
          metric: "bare_cpu_workerd_request_us",
          value: round(bareMedianUs),
          unit: "us",
          n,
          rounds,
          note: `the bare Hono route the same way; bare/decide = ${round(bareMedianUs / decideUs)}: the decide_vs_bare_ratio an otherwise idle machine would show if only the isolate's work differed`,
        },
      ];
    } finally {
      await mf.dispose();
    }
  },
};
