/**
 * `npm run demo [-- --rounds N --visitors N --history N --json]`: the whole loop on local emulation,
 * with no account, as policy iteration.
 *
 *  1. seeds a fresh local D1 with simulated history: decisions and outcomes of simulated visitors
 *     served by the fallback (the control with its exploration), as rows of the Worker's own
 *     log-row codec, loaded in bulk (labelled as simulated history: traffic through a local Worker
 *     cannot log a learnable amount of data in a few minutes);
 *  2. starts the Worker (wrangler dev: local KV, D1, Queue) on that state; with no policy published
 *     it serves the same fallback;
 *  3. then, each round: simulated shoppers through the Worker under what it serves; `promo train`
 *     (the default learner) on everything in D1; `promo publish`, which the gate lets through or
 *     refuses (never `--force`: a refused candidate leaves the Worker serving what it served);
 *  4. runs the last round's learned policy as a canary against the control (half the visitors each),
 *     with more simulated shoppers, then lets the Worker's scheduled monitor judge it, and prints the
 *     experiment's table (per arm, with intervals) and the monitor's decision;
 *  5. scores what was served in every round, and every candidate, on the simulator's ground truth,
 *     in one table; `--json` ends with one line `{"summary": {...}}` (the canary under `experiment`).
 *
 * Policies and reports land in reports/demo (`--out-dir`); everything it started is stopped.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { DEFAULT_CONTROL } from "../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { decodePolicy } from "../shared/policy/format.ts";
import { bulkLoadLogRows } from "../trainer/runtime/d1-bulk-load.ts";
import { openLocalBindings } from "../trainer/runtime/local-bindings.ts";
import {
  DEFAULT_SIM_MODEL,
  controlChooser,
  driveWorker,
  oracleChooser,
  policyChooser,
  scorePolicy,
  type Chooser,
  type DriveReport,
} from "../trainer/sim/index.ts";
import { simulateLogs } from "../trainer/sim/pipeline.ts";
import { canaryExperiment } from "../trainer/experiment/canary.ts";
import { formatExperimentReport } from "../trainer/experiment/format-report.ts";
import { ExperimentRegistry, type EndedExperiment, type MonitorLook } from "../shared/experiment-registry.ts";
import type { ExperimentReport } from "../shared/experiment-verdict.ts";
import type { Experiment } from "../shared/experiment.ts";
import { PolicyRegistry } from "../shared/policy-registry.ts";
import { applyLocalMigrations, ROOT, wranglerEnv } from "./local-env.ts";
import { startLocalWorker, type LocalWorker } from "./local-worker.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    visitors: { type: "string", default: "1500" },
    history: { type: "string", default: "100000" },
    "score-visitors": { type: "string", default: "2000" },
    json: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "out-dir": { type: "string", default: "reports/demo" },
  },
});
/** Where the trained policies and their reports go; tests point it outside the checkout. */
const outDir = path.resolve(ROOT, values["out-dir"]);
const rounds = positiveInteger(values.rounds, "--rounds");
const visitors = positiveInteger(values.visitors, "--visitors");
const history = positiveInteger(values.history, "--history");
const scoreVisitors = positiveInteger(values["score-visitors"], "--score-visitors");
const SEEDS = [1, 2, 3, 4, 5];
const HISTORY_SEED = 77;
const trafficSeed = (round: number) => 100 + round;
const { catalogue, gamma } = DEFAULT_SIM_MODEL;
const spec = DEFAULT_COMPILED_SPEC;
const started = Date.now();
const totalSteps = 4 + rounds;
let stepNumber = 0;

function step(title: string): void {
  stepNumber++;
  console.log(`\n[${stepNumber}/${totalSteps} · ${((Date.now() - started) / 1000).toFixed(0)} s] ${title}`);
}

function positiveInteger(raw: string | undefined, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${raw}"`);
  return n;
}

const run = promisify(execFile);

/** Runs the `promo` command line as a user would, and returns its `--json` answer; `accept` lists exit codes that still answer. */
async function promo<T>(args: string[], accept: readonly number[] = []): Promise<T> {
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, "bin", "promo.js"), ...args, "--json"], {
      cwd: ROOT,
      env: wranglerEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string; message: string };
    if (failure.code !== undefined && accept.includes(failure.code) && failure.stdout) {
      return JSON.parse(failure.stdout) as T;
    }
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

/**
 * Waits until every decision the Worker answered is a row in D1 (the queue consumer is asynchronous).
 * Reading the local SQLite file from this process can make one of the consumer's writes fail with
 * SQLITE_BUSY; the consumer then retries it 30 s later (the delays that carry rows through a D1
 * outage), so the wait allows a few minutes and polls sparingly.
 */
async function waitForLogs(persistTo: string, expected: number): Promise<number> {
  const bindings = await openLocalBindings({ persistTo });
  try {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const row = await bindings.DB.prepare("SELECT count(*) AS n FROM decisions")
        .first<{ n: number }>()
        .catch((error: unknown) => {
          if (/SQLITE_BUSY|commit token/.test(String(error))) return null;
          throw error;
        });
      const stored = row?.n ?? 0;
      if (stored >= expected) return stored;
      if (Date.now() > deadline) throw new Error(`only ${stored} of ${expected} decisions reached D1 within 240 s`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  } finally {
    await bindings.dispose();
  }
}

/**
 * Writes simulated history into local D1: rows made by the Worker's log-row codec, loaded in bulk
 * through the same table definitions as its writer (trainer/runtime/d1-bulk-load.ts), since the
 * writer's 6 rows per statement would take a minute for 100k decisions.
 */
async function seedHistory(persistTo: string): Promise<number> {
  const { run: simulated } = simulateLogs({
    seed: HISTORY_SEED,
    decisions: history,
    policy: controlChooser(catalogue, spec, DEFAULT_CONTROL),
  });
  const bindings = await openLocalBindings({ persistTo });
  try {
    await bulkLoadLogRows(bindings.DB, {
      decisions: simulated.steps.map((s) => s.decision),
      outcomes: simulated.steps.flatMap((s) => s.outcomes),
    });
    return simulated.steps.length;
  } finally {
    await bindings.dispose();
  }
}

interface TrainAnswer {
  version: string;
  out: string;
  report: string;
  gate: { allowed: boolean; reason: string };
  training: { decisions: number };
}

interface PublishAnswer {
  published: boolean;
  reason: string;
}

interface ServedPolicy {
  version: string;
  source: "kv" | "fallback";
}

interface ExperimentAnswer {
  experiment: Experiment;
  report: ExperimentReport;
}

interface StatusAnswer {
  monitorLook: MonitorLook | null;
  lastEnded: EndedExperiment | null;
}

/**
 * Stores `file`'s policy and starts a canary of it against the control on half the visitors,
 * starting at the simulated clock's start (the Worker logs simulated times).
 */
async function startDemoCanary(persistTo: string, file: string): Promise<Experiment> {
  const bindings = await openLocalBindings({ persistTo });
  try {
    const stored = await new PolicyRegistry(bindings.POLICY).store(new Uint8Array(await readFile(file)));
    const experiment = canaryExperiment({
      id: `demo-canary-${stored.version}`,
      candidate: { version: stored.version, sha256: stored.sha256 },
      current: null,
      share: 0.5,
      startedAt: new Date(DEFAULT_SIM_MODEL.startTime),
    });
    await new ExperimentRegistry(bindings.POLICY).start(experiment);
    return experiment;
  } finally {
    await bindings.dispose();
  }
}

interface RoundResult {
  round: number;
  served: string;
  worker: DriveReport;
  servedTruth: number;
  candidate: string;
  candidateTruth: number;
  published: boolean;
  reason: string;
}

async function served(worker: LocalWorker): Promise<ServedPolicy> {
  return (await (await fetch(`${worker.url}/v1/policy`)).json()) as ServedPolicy;
}

async function chooserOfFile(file: string, name: string): Promise<Chooser> {
  const policy = decodePolicy(new Uint8Array(await readFile(path.resolve(ROOT, file))));
  return policyChooser(policy, catalogue, spec, name);
}

async function main(): Promise<void> {
  const persistTo = await mkdtemp(path.join(tmpdir(), "edge-promo-demo-"));
  let worker: LocalWorker | undefined;
  try {
    // Seeded before the Worker starts: two processes writing one local SQLite file fail with SQLITE_BUSY.
    step(`seeding local D1 with SIMULATED HISTORY: about ${history.toLocaleString("en-US")} decisions of the fallback`);
    await applyLocalMigrations(persistTo);
    const seeded = await seedHistory(persistTo);
    console.log(`  ${seeded} simulated decisions (and their outcomes) loaded into local D1`);

    step("starting the Worker (wrangler dev, local KV + D1 + Queue, simulated clock allowed)");
    // The simulated history spans months and the trainer reads it from D1: D1 keeps all of it here
    // (in a deployment it keeps RETENTION_DAYS, and the archive in R2 the rest).
    worker = await startLocalWorker({
      persistTo,
      vars: { POLICY_REFRESH_SECONDS: "0", SIMULATED_CLOCK: "allow", RETENTION_DAYS: "3650" },
    });
    const first = await served(worker);
    console.log(`  ${worker.url} serves ${first.version} (${first.source}); state in ${persistTo}`);

    const scoring = { seeds: SEEDS, visitors: scoreVisitors };
    const oracle = scorePolicy(oracleChooser(), scoring).value.mean;
    const truth = (chooser: Chooser) => scorePolicy(chooser, scoring).value.mean / oracle;
    const fallbackTruth = truth(controlChooser(catalogue, spec, DEFAULT_CONTROL));
    let servedChooser: Chooser = controlChooser(catalogue, spec, DEFAULT_CONTROL);
    let servedTruth = fallbackTruth;
    let logged = seeded;
    const results: RoundResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      const before = await served(worker);
      step(
        `round ${round}: ${visitors} simulated visitors through the Worker under ${before.version}, then train and gate`,
      );
      const report = await driveTraffic(worker, trafficSeed(round));
      logged += report.decisions;
      console.log(`  ${await waitForLogs(persistTo, logged)} decision rows in local D1`);
      const candidate = await promo<TrainAnswer>([
        "train",
        "--source",
        "local",
        "--persist-to",
        persistTo,
        // The simulator reports refunds up to 2 days after an order: the attribution window must cover them.
        "--window",
        "2d",
        "--out",
        path.join(outDir, `round-${round}.bin`),
        "--report",
        path.join(outDir, `round-${round}.html`),
      ]);
      const candidateChooser = await chooserOfFile(candidate.out, candidate.version);
      const candidateTruth = truth(candidateChooser);
      const publish = await promo<PublishAnswer>(
        ["publish", candidate.out, "--target", "local", "--persist-to", persistTo],
        [3],
      );
      const now = await served(worker);
      if (publish.published && now.version !== candidate.version) {
        throw new Error(`the gate published ${candidate.version}, but the Worker serves ${now.version}`);
      }
      console.log(
        `  ${candidate.version}: ${publish.published ? "PUBLISHED" : "refused"} (${publish.reason}); the Worker serves ${now.version} (${now.source})`,
      );
      results.push({
        round,
        served: before.version,
        worker: report,
        servedTruth,
        candidate: candidate.version,
        candidateTruth,
        published: publish.published,
        reason: publish.reason,
      });
      if (publish.published) {
        servedChooser = candidateChooser;
        servedTruth = candidateTruth;
      }
    }

    const learned = results.at(-1)!;
    step(`canary: ${learned.candidate} against the control, half the visitors each; then the Worker's monitor looks`);
    const experiment = await startDemoCanary(persistTo, path.join(outDir, `round-${learned.round}.bin`));
    const canaryTraffic = await driveTraffic(worker, trafficSeed(rounds + 1));
    logged += canaryTraffic.decisions;
    console.log(`  ${await waitForLogs(persistTo, logged)} decision rows in local D1`);
    // The cron trigger's handler, as wrangler dev exposes it: the policy check and the monitor's look.
    const scheduled = await fetch(`${worker.url}/cdn-cgi/handler/scheduled`);
    if (!scheduled.ok) throw new Error(`the scheduled handler answered ${scheduled.status}: ${await scheduled.text()}`);
    const local = ["--target", "local", "--persist-to", persistTo];
    const status = await promo<StatusAnswer>(["experiment", "status", ...local]);
    const { report } = await promo<ExperimentAnswer>(["experiment", "report", "--source", "local", ...local]);
    console.log(formatExperimentReport(report).replace(/^/gm, "  "));
    const look = status.monitorLook;
    console.log(
      `  the monitor: ${look ? `${look.action}: ${look.reason}` : "no look recorded"}` +
        (status.lastEnded?.experiment.id === experiment.id
          ? `; the experiment ended (${status.lastEnded.outcome}), the Worker serves ${(await served(worker)).version}`
          : `; the experiment runs on`),
    );

    step(`ground truth (${SEEDS.length} seeds × ${scoreVisitors} visitors, γ = ${gamma}, share of the oracle's value)`);
    console.log(roundTable(results, oracle));
    const finalTruth = truth(servedChooser);
    console.log(
      `\n  fallback (control "${DEFAULT_CONTROL.action}", exploring ${DEFAULT_CONTROL.exploration}): ${pct(fallbackTruth)}; ` +
        `served at the end: ${pct(finalTruth)}; published in ${results.filter((r) => r.published).length} of ${rounds} rounds, never forced`,
    );
    console.log(`  policies and reports: ${outDir}`);
    console.log(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (values.json) {
      const summary = {
        rounds: results.map((r) => ({
          round: r.round,
          policy: r.candidate,
          published: r.published,
          served: r.served,
          worker_value: r.worker.valuePerVisitor,
          worker_ratio: r.worker.valuePerVisitor / oracle,
          ground_truth_ratio: r.servedTruth,
          candidate_ground_truth_ratio: r.candidateTruth,
          reason: r.reason,
        })),
        fallback_ratio: fallbackTruth,
        final_ratio: finalTruth,
        forced: false,
        history_decisions: seeded,
        experiment: {
          id: experiment.id,
          candidate: learned.candidate,
          arms: report.arms,
          comparisons: report.comparisons,
          sample_ratio: report.sampleRatio,
          verdict: report.verdict,
          monitor: look,
          ended: status.lastEnded?.experiment.id === experiment.id ? status.lastEnded : null,
        },
      };
      console.log(JSON.stringify({ summary }));
    }
  } finally {
    await worker?.stop();
    if (!values.keep) await rm(persistTo, { recursive: true, force: true });
  }
}

function pct(ratio: number): string {
  return `${(100 * ratio).toFixed(1)}%`;
}

/** One line per round: what the Worker served, its value measured through the Worker and on the ground truth, and the candidate's fate. */
function roundTable(results: readonly RoundResult[], oracle: number): string {
  const rows = results.map((r) => [
    String(r.round),
    r.served,
    `${r.worker.valuePerVisitor.toFixed(3)} (${pct(r.worker.valuePerVisitor / oracle)})`,
    pct(r.servedTruth),
    r.candidate,
    pct(r.candidateTruth),
    r.published ? "published" : "refused",
  ]);
  const header = ["round", "served", "through the Worker", "ground truth", "candidate", "its truth", "gate"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
