/**
 * The decision path of decide-cpu, run inside workerd instead of Node: same engine, same random DQN
 * 64×64, same varied contexts and ids. workerd's clock ticks in whole milliseconds, so a request runs
 * `n` decisions back to back and reports the elapsed time; the caller divides by n.
 */
import { DEFAULT_CATALOGUE } from "../shared/catalogue.ts";
import { createDecisionEngine } from "../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { decisionIds, randomDqnPolicy, variedDecisionInputs } from "./fixtures.ts";
import type { CpuReport } from "./worker-reports.ts";

const engine = createDecisionEngine(
  randomDqnPolicy([64, 64], "bench-dqn-64x64"),
  DEFAULT_CATALOGUE,
  DEFAULT_COMPILED_SPEC,
);
const inputs = variedDecisionInputs(4096);
const ids = decisionIds(inputs.length);
let next = 0;

export default {
  fetch(request: Request): Response {
    const n = Math.max(1, Math.min(1_000_000, Number(new URL(request.url).searchParams.get("n") ?? "1000") || 1000));
    let checksum = 0;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const j = next++ & (inputs.length - 1);
      const input = inputs[j]!;
      checksum += engine.decide(input.context, input.exposures, ids[j]!).actionIndex;
    }
    const report: CpuReport = { n, elapsedMs: performance.now() - start, checksum };
    return Response.json(report);
  },
};
