/**
 * decide_cpu_workerd_mean_us (reported, no target: docs/figures.md's target is for Node/V8): the decision
 * path of decide-cpu run inside workerd, the runtime the Worker ships on, to check that the Node
 * figure carries over. Mean per call: the median over rounds of (elapsed ms of n back-to-back
 * decisions) / n, after warm-up rounds; workerd's 1 ms clock rules out per-call timing.
 */
import type { CpuReport } from "./worker-reports.ts";
import { bundledWorker, bundleWorker, newMiniflare } from "./harness.ts";
import { median, round } from "./stats.ts";
import type { Measurement } from "./types.ts";

export const decideCpuWorkerd: Measurement = {
  name: "decide-cpu-workerd",
  description: "the decide-cpu decision path inside workerd (mean per call, 1 ms clock), for comparison with Node",
  async run({ quick, log }) {
    const script = await bundleWorker("bench-cpu", "bench/cpu-worker.ts", log);
    const mf = newMiniflare([bundledWorker("bench-cpu", script)]);
    try {
      const n = quick ? 2_000 : 5_000;
      const rounds = quick ? 8 : 25;
      const call = async () => (await (await mf.dispatchFetch(`http://bench/?n=${n}`)).json()) as CpuReport;
      log(`decide-cpu-workerd: ${rounds} rounds × ${n} decisions in workerd`);
      for (let i = 0; i < 5; i++) await call(); // warm-up: let V8 optimise, as in a long-lived isolate
      const perCall: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const r = await call();
        perCall.push((r.elapsedMs * 1000) / r.n);
      }
      return [
        {
          metric: "decide_cpu_workerd_mean_us",
          value: round(median(perCall)),
          unit: "us",
          n,
          rounds,
          best_round_us: round(Math.min(...perCall)),
          note: `same engine/policy/contexts as decide-cpu, inside workerd: median over ${rounds} rounds of the mean of ${n} back-to-back decide() calls (best round ${round(Math.min(...perCall))} µs)`,
        },
      ];
    } finally {
      await mf.dispose();
    }
  },
};
