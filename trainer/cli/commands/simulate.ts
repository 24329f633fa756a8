import { readFile } from "node:fs/promises";
import { DEFAULT_COMPILED_SPEC } from "../../../shared/features.ts";
import { decodePolicy } from "../../../shared/policy/format.ts";
import type { LogMessage } from "../../../shared/schema.ts";
import { writeJsonl } from "../../runtime/jsonl.ts";
import {
  DEFAULT_SIM_MODEL,
  bestFixedPromotion,
  driveWorker,
  evalRowsOf,
  fixedChooser,
  logRowsOf,
  myopicOracleChooser,
  oracleChooser,
  policyChooser,
  scorePolicy,
  simulateTraffic,
  controlChooser,
  uniformChooser,
  writeEvalJsonl,
  writeLogsJsonl,
  type Chooser,
  type PolicyScore,
} from "../../sim/index.ts";
import { defineCommand, numberOption, stringOption, UsageError, type OptionValues } from "../command.ts";

export const simulateCommand = defineCommand({
  name: "simulate",
  summary:
    "simulated shoppers with known ground truth: score a policy in-process, write logs, or drive a running Worker",
  usage: `usage: promo simulate [--policy P] [--visitors N] [--seeds 1,2,3] [exports]
       promo simulate --target http://127.0.0.1:8787 [--visitors N] [--seed S]

  --policy P         uniform | control | oracle | myopic-oracle | best-fixed | fixed:<promotion id> | <policy.bin>;
                     default uniform
  --visitors N       visitors per seed; default 2000
  --seeds L          comma-separated seeds; the value's interval is over them; default 1,2,3,4,5
  --seed S           the seed of exports and of --target traffic; default 1
  --export-logs F    JSONL: context, action, propensity, reward, visitor, ts, next (for other tools)
  --export-eval F    JSONL: each logged context with the exact expected reward of every action
  --write-source F   JSONL in the trainer's log format: promo train --source file:F
  --target URL       send the traffic to a running Worker over HTTP instead (with wrangler dev's
                     SIMULATED_CLOCK=allow the Worker follows the simulated time)
  --concurrency N    visitors in flight with --target; default 16`,
  options: {
    policy: { type: "string" },
    visitors: { type: "string" },
    seeds: { type: "string" },
    seed: { type: "string" },
    "export-logs": { type: "string" },
    "export-eval": { type: "string" },
    "write-source": { type: "string" },
    target: { type: "string" },
    concurrency: { type: "string" },
  },
  parse({ values }) {
    const visitors = numberOption(values, "visitors", 2000, (n) => Number.isInteger(n) && n >= 1);
    const seed = numberOption(values, "seed", 1, Number.isInteger);
    const target = stringOption(values, "target");
    if (target !== undefined) {
      if (!URL.canParse(target))
        throw new UsageError(`--target must be a URL like http://127.0.0.1:8787; got "${target}"`);
      const concurrency = numberOption(values, "concurrency", 16, (n) => Number.isInteger(n) && n >= 1);
      return { mode: "http" as const, target, seed, visitors, concurrency };
    }
    const paths = {
      logs: stringOption(values, "export-logs"),
      eval: stringOption(values, "export-eval"),
      source: stringOption(values, "write-source"),
    };
    return {
      mode: "in-process" as const,
      policy: stringOption(values, "policy") ?? "uniform",
      seeds: seedsOf(values),
      seed,
      visitors,
      paths,
    };
  },
  async run(o, { log }) {
    if (o.mode === "http") {
      const { target, visitors } = o;
      const report = await driveWorker({ target, seed: o.seed, visitors, concurrency: o.concurrency });
      const failed = report.failures.decide + report.failures.outcome;
      for (const example of report.failures.examples) log(`failure: ${example}`);
      return {
        summary:
          `sent ${report.decisions} decisions and ${report.outcomes} outcomes for ${visitors} visitors to ${target}: ` +
          `value ${report.valuePerVisitor.toFixed(3)} per visitor, ${failed} failed requests`,
        json: report,
        exitCode: failed > 0 ? 1 : 0,
      };
    }
    const scoring = { seeds: o.seeds, visitors: o.visitors };
    const chooser = await chooserOf(o.policy, scoring);
    const exports = await writeExports(o.paths, chooser, o.seed, o.visitors, log);
    const score = scorePolicy(chooser, scoring);
    return { summary: summaryOf(score, exports), json: { ...score, exports } };
  },
});

function seedsOf(values: OptionValues): number[] {
  const raw = stringOption(values, "seeds") ?? "1,2,3,4,5";
  const seeds = raw.split(",").map(Number);
  if (seeds.length < 2 || seeds.some((s) => !Number.isInteger(s)))
    throw new UsageError(`--seeds takes at least two integers, like 1,2,3; got "${raw}"`);
  return seeds;
}

async function chooserOf(name: string, scoring: { seeds: number[]; visitors: number }): Promise<Chooser> {
  const catalogue = DEFAULT_SIM_MODEL.catalogue;
  if (name === "uniform") return uniformChooser(catalogue, DEFAULT_COMPILED_SPEC);
  if (name === "control") return controlChooser(catalogue, DEFAULT_COMPILED_SPEC);
  if (name === "oracle") return oracleChooser();
  if (name === "myopic-oracle") return myopicOracleChooser();
  if (name === "best-fixed") return bestFixedPromotion(scoring).chooser;
  if (name.startsWith("fixed:")) {
    const id = name.slice("fixed:".length);
    if (!catalogue.some((p) => p.id === id)) throw new UsageError(`no promotion "${id}" in the catalogue`);
    return fixedChooser(id, catalogue);
  }
  const bytes = await readFile(name).catch(() => {
    throw new UsageError(`--policy "${name}" is neither a known policy name nor a readable policy file`);
  });
  return policyChooser(decodePolicy(new Uint8Array(bytes)), catalogue, DEFAULT_COMPILED_SPEC);
}

interface ExportPaths {
  logs: string | undefined;
  eval: string | undefined;
  source: string | undefined;
}

interface Exports {
  logs?: string;
  eval?: string;
  source?: string;
  rows: number;
}

/** One recorded run (the --seed) feeds every export, so they describe the same page views. */
async function writeExports(
  paths: ExportPaths,
  chooser: Chooser,
  seed: number,
  visitors: number,
  log: (line: string) => void,
): Promise<Exports> {
  if (!paths.logs && !paths.eval && !paths.source) return { rows: 0 };
  const run = simulateTraffic({ seed, visitors, policy: chooser });
  if (paths.logs) log(`wrote ${await writeLogsJsonl(paths.logs, logRowsOf(run))} rows to ${paths.logs}`);
  if (paths.eval) log(`wrote ${await writeEvalJsonl(paths.eval, evalRowsOf(run))} rows to ${paths.eval}`);
  if (paths.source) {
    const messages: LogMessage[] = [
      ...run.steps.map((step): LogMessage => ({ type: "decision", row: step.decision })),
      ...run.steps.flatMap((step) => step.outcomes.map((row): LogMessage => ({ type: "outcome", row }))),
    ];
    await writeJsonl(paths.source, (writer) => writer.write(messages));
    log(`wrote ${messages.length} log rows to ${paths.source}`);
  }
  return { ...paths, rows: run.steps.length };
}

function summaryOf(score: PolicyScore, exports: Exports): string {
  const v = score.value;
  return (
    `${score.policy}: long-term value ${v.mean.toFixed(3)} ± ${v.halfWidth.toFixed(3)} per visitor (γ = ${score.gamma}, ` +
    `${score.perSeed.length} seeds × ${score.visitorsPerSeed} visitors); revenue ${score.revenue.toFixed(2)}, margin ${score.margin.toFixed(2)}, ` +
    `promotion cost ${score.promotionCost.toFixed(2)}, conversion rate ${(100 * score.conversionRate).toFixed(1)}%` +
    (exports.rows ? `; exported ${exports.rows} page views` : "")
  );
}
