/**
 * `npm run demo [-- --visitors N]`: the whole loop on local emulation, with no account.
 *
 *  1. starts the Worker (wrangler dev: local KV, D1, Queue) on a fresh state directory;
 *  2. sends simulated shoppers through it while it serves the fallback (the control, exploring 5%);
 *  3. trains a DQN (and, for comparison, a Q-table and a myopic γ = 0 bandit) on the logged D1 data;
 *  4. publishes the DQN to local KV and checks that the Worker serves it;
 *  5. sends fresh shoppers under the new policy;
 *  6. prints revenue, margin, promotion cost, conversion rate and long-term value per visitor for
 *     uniform, best single promotion, myopic bandit, DQN, Q-table and the oracle, with intervals;
 *  7. leaves the policies and HTML reports in reports/demo (`--out-dir`), and stops everything it started.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { decodePolicy } from "../shared/policy/format.ts";
import { readFile } from "node:fs/promises";
import { openLocalBindings } from "../trainer/runtime/local-bindings.ts";
import {
  DEFAULT_SIM_MODEL,
  bestFixedPromotion,
  driveWorker,
  oracleChooser,
  policyChooser,
  scorePolicy,
  controlChooser,
  uniformChooser,
  type Chooser,
  type DriveReport,
  type PolicyScore,
} from "../trainer/sim/index.ts";
import { ROOT, wranglerEnv } from "./local-env.ts";
import { startLocalWorker, type LocalWorker } from "./local-worker.ts";

const { values } = parseArgs({
  options: {
    visitors: { type: "string", default: "1500" },
    "score-visitors": { type: "string", default: "2000" },
    epochs: { type: "string" },
    keep: { type: "boolean", default: false },
    "out-dir": { type: "string", default: "reports/demo" },
  },
});
/** Where the trained policies and their reports go; tests point it outside the checkout. */
const outDir = path.resolve(ROOT, values["out-dir"]);
const visitors = positiveInteger(values.visitors, "--visitors");
const scoreVisitors = positiveInteger(values["score-visitors"], "--score-visitors");
const SEEDS = [1, 2, 3, 4, 5];
const TRAFFIC_SEED = { explore: 101, exploit: 202 };
const gamma = DEFAULT_SIM_MODEL.gamma;
const started = Date.now();
let stepNumber = 0;

function step(title: string): void {
  stepNumber++;
  console.log(`\n[${stepNumber}/7 · ${((Date.now() - started) / 1000).toFixed(0)} s] ${title}`);
}

function positiveInteger(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${raw}"`);
  return n;
}

const run = promisify(execFile);

/** Runs the `promo` command line as a user would, and returns its `--json` answer. */
async function promo<T>(args: string[]): Promise<T> {
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, "bin", "promo.js"), ...args, "--json"], {
      cwd: ROOT,
      env: wranglerEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promo ${args[0]} failed: ${failure.stdout?.trim() || failure.stderr?.trim() || failure.message}`);
  }
}

async function driveTraffic(worker: LocalWorker, seed: number): Promise<DriveReport> {
  const report = await driveWorker({ target: worker.url, seed, visitors, concurrency: 8 });
  const failed = report.failures.decide + report.failures.outcome;
  console.log(
    `  ${report.decisions} decisions, ${report.outcomes} outcomes for ${visitors} visitors; ` +
      `realised value ${report.valuePerVisitor.toFixed(3)} per visitor; served by ${Object.keys(report.policyVersions).join(", ")}`,
  );
  if (failed > 0) throw new Error(`${failed} requests failed: ${report.failures.examples.join("; ")}`);
  return report;
}

/** Waits until every decision the Worker answered is a row in D1 (the queue consumer is asynchronous). */
async function waitForLogs(persistTo: string, expected: number): Promise<number> {
  const bindings = await openLocalBindings({ persistTo });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const row = await bindings.DB.prepare("SELECT count(*) AS n FROM decisions").first<{ n: number }>();
      const stored = row?.n ?? 0;
      if (stored >= expected) return stored;
      if (Date.now() > deadline) throw new Error(`only ${stored} of ${expected} decisions reached D1 within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await bindings.dispose();
  }
}

interface TrainAnswer {
  version: string;
  out: string;
  report: string;
  backend: string;
  gate: { allowed: boolean; reason: string };
  training: { decisions: number; estimate: { estimator: string; value: number; lower: number; upper: number } };
}

async function train(persistTo: string, algo: "dqn" | "qtable", trainGamma: number): Promise<TrainAnswer> {
  const epochs = values.epochs ? ["--epochs", values.epochs] : [];
  const answer = await promo<TrainAnswer>([
    "train",
    "--source",
    "local",
    "--persist-to",
    persistTo,
    "--algo",
    algo,
    "--gamma",
    String(trainGamma),
    // The simulator reports refunds up to 2 days after an order: the attribution window must cover them.
    "--window",
    "2d",
    "--out",
    path.join(outDir, `${algo}-gamma${trainGamma}.bin`),
    "--report",
    path.join(outDir, `${algo}-gamma${trainGamma}.html`),
    ...(algo === "dqn" ? epochs : []),
  ]);
  const e = answer.training.estimate;
  console.log(
    `  ${algo} γ=${trainGamma} → ${answer.version} on ${answer.backend}, ${answer.training.decisions} decisions; ` +
      `offline ${e.estimator} ${e.value.toFixed(3)} [${e.lower.toFixed(3)}, ${e.upper.toFixed(3)}]; gate: ${answer.gate.reason}`,
  );
  return answer;
}

async function chooserOfFile(file: string, name: string): Promise<Chooser> {
  const policy = decodePolicy(new Uint8Array(await readFile(path.resolve(ROOT, file))));
  return policyChooser(policy, DEFAULT_SIM_MODEL.catalogue, DEFAULT_COMPILED_SPEC, name);
}

function table(
  rows: { name: string; score: PolicyScore }[],
  oracleValue: number,
  measured: { name: string; report: DriveReport }[],
): string {
  const width = Math.max(...[...rows, ...measured].map((r) => r.name.length));
  const header = `${"policy".padEnd(width)} ${"value/visitor (95% CI)".padEnd(24)} ${"% oracle".padStart(8)} ${"revenue".padStart(8)} ${"margin".padStart(8)} ${"promo cost".padStart(10)} ${"conv. rate".padStart(10)}`;
  const lines = rows.map(({ name, score }) => {
    const v = score.value;
    return (
      `${name.padEnd(width)} ${`${v.mean.toFixed(3)} ± ${v.halfWidth.toFixed(3)}`.padEnd(24)} ${`${((100 * v.mean) / oracleValue).toFixed(1)}%`.padStart(8)} ` +
      `${score.revenue.toFixed(2).padStart(8)} ${score.margin.toFixed(2).padStart(8)} ${score.promotionCost.toFixed(2).padStart(10)} ${`${(100 * score.conversionRate).toFixed(1)}%`.padStart(10)}`
    );
  });
  const through = measured.map(
    ({ name, report }) =>
      `${name.padEnd(width)} ${`${report.valuePerVisitor.toFixed(3)} (one run)`.padEnd(24)} ${`${((100 * report.valuePerVisitor) / oracleValue).toFixed(1)}%`.padStart(8)}`,
  );
  return [
    header,
    ...lines,
    "",
    "measured through the Worker over HTTP (one run each, the same visitors' model):",
    ...through,
  ].join("\n");
}

async function main(): Promise<void> {
  const persistTo = await mkdtemp(path.join(tmpdir(), "edge-promo-demo-"));
  let worker: LocalWorker | undefined;
  try {
    step("starting the Worker (wrangler dev, local KV + D1 + Queue, simulated clock allowed)");
    worker = await startLocalWorker({ persistTo, vars: { POLICY_REFRESH_SECONDS: "0", SIMULATED_CLOCK: "allow" } });
    const policyBefore = (await (await fetch(`${worker.url}/v1/policy`)).json()) as { version: string; source: string };
    console.log(`  ${worker.url} serves ${policyBefore.version} (${policyBefore.source}); state in ${persistTo}`);

    step(
      `exploring: ${visitors} simulated visitors through the Worker under the fallback (the control with exploration)`,
    );
    const exploring = await driveTraffic(worker, TRAFFIC_SEED.explore);
    console.log(`  ${await waitForLogs(persistTo, exploring.decisions)} decision rows in local D1`);

    step("training on the logged D1 data: DQN (γ = 0.95), Q-table (γ = 0.95) and a myopic bandit (γ = 0)");
    const dqn = await train(persistTo, "dqn", gamma);
    const qtable = await train(persistTo, "qtable", gamma);
    const bandit = await train(persistTo, "dqn", 0);

    step(`publishing ${dqn.version} to local KV`);
    const publish = ["publish", dqn.out, "--target", "local", "--persist-to", persistTo];
    const published = await promo<{ published: boolean; reason: string }>(publish).catch(async (error: Error) => {
      console.log(`  the gate refused it (${error.message}); publishing with --force so the demo can go on`);
      return promo<{ published: boolean; reason: string }>([...publish, "--force"]);
    });
    console.log(`  ${published.reason}`);
    const served = (await (await fetch(`${worker.url}/v1/policy`)).json()) as { version: string; source: string };
    if (served.version !== dqn.version) throw new Error(`the Worker serves ${served.version}, not ${dqn.version}`);
    console.log(`  the Worker now serves ${served.version} (${served.source})`);

    step(`exploiting: ${visitors} fresh visitors through the Worker under ${dqn.version}`);
    const exploiting = await driveTraffic(worker, TRAFFIC_SEED.exploit);

    step(
      `scoring every policy on the simulator's ground truth (${SEEDS.length} seeds × ${scoreVisitors} visitors, γ = ${gamma})`,
    );
    const scoring = { seeds: SEEDS, visitors: scoreVisitors };
    const oracle = scorePolicy(oracleChooser(), scoring);
    const best = bestFixedPromotion(scoring);
    const rows = [
      {
        name: "control-explore (fallback)",
        score: scorePolicy(controlChooser(DEFAULT_SIM_MODEL.catalogue, DEFAULT_COMPILED_SPEC), scoring),
      },
      {
        name: "uniform",
        score: scorePolicy(uniformChooser(DEFAULT_SIM_MODEL.catalogue, DEFAULT_COMPILED_SPEC), scoring),
      },
      { name: `best fixed (${best.actionId})`, score: best.score },
      { name: "myopic bandit (γ=0)", score: scorePolicy(await chooserOfFile(bandit.out, "bandit"), scoring) },
      { name: "DQN", score: scorePolicy(await chooserOfFile(dqn.out, "dqn"), scoring) },
      { name: "Q-table", score: scorePolicy(await chooserOfFile(qtable.out, "qtable"), scoring) },
      { name: "oracle (sees segments)", score: oracle },
    ];
    console.log(
      table(rows, oracle.value.mean, [
        { name: "control-explore (fallback)", report: exploring },
        { name: `DQN ${dqn.version}`, report: exploiting },
      ]),
    );

    step("report");
    console.log(`  ${path.resolve(ROOT, dqn.report)}`);
    console.log(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await worker?.stop();
    if (!values.keep) await rm(persistTo, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
