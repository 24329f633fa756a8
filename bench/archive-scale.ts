/**
 * archive_read_rows_per_s and trainer_peak_rss_mb (1M and 5M decisions), and their ratio: building
 * transitions from a synthetic archive laid out as the Worker writes it (Parquet parts of 100,000
 * decisions a day, with their outcomes), in a temporary directory. The rows repeat 2,000 real ones
 * (simulated shoppers under the fallback, with their outcomes) under new ids, visitors and times, so
 * sizes, encodings and outcome rates are a real log's; 200,000 visitors return every other day, so
 * most steps have a next state. Each build runs alone in a child process
 * (bench/archive-transitions.ts), which reports its own peak memory: DuckDB (512 MB limit, spilling
 * past it) joins the outcomes and sorts the decisions into trajectories, and the dataset builder
 * checks, encodes, credits and links them, keeping only totals.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { archiveDay, archivePartKey } from "../shared/archive.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import type { DecisionRow, OutcomeRow } from "../shared/schema.ts";
import { decisionsParquet, outcomesParquet } from "../edge/archive/parquet.ts";
import { controlChooser } from "../trainer/sim/chooser.ts";
import { simulateLogs } from "../trainer/sim/pipeline.ts";
import type { SimulatedStep } from "../trainer/sim/simulate.ts";
import { ROOT } from "./harness.ts";
import { round } from "./stats.ts";
import { withTarget, type Measurement } from "./types.ts";

const run = promisify(execFile);
const PART_ROWS = 100_000;
const DAY_MS = 86_400_000;

async function writeArchive(dir: string, templates: readonly SimulatedStep[], total: number): Promise<void> {
  const start = Date.UTC(2026, 0, 1);
  for (let part = 0; part * PART_ROWS < total; part++) {
    const decisions: DecisionRow[] = [];
    const outcomes: OutcomeRow[] = [];
    for (let i = part * PART_ROWS; i < Math.min(total, (part + 1) * PART_ROWS); i++) {
      const template = templates[i % templates.length]!;
      const ts = start + part * DAY_MS + (i % PART_ROWS) * 800;
      const id = `d${i}`;
      decisions.push({ ...template.decision, id, visitorHash: `v${i % 200_000}`.padEnd(64, "0"), ts });
      for (const outcome of template.outcomes)
        outcomes.push({ ...outcome, decisionId: id, ts: ts + (outcome.ts - template.decision.ts) });
    }
    const day = archiveDay(decisions[0]!.ts);
    await writePart(dir, archivePartKey("decisions", day, `synthetic${part}`), decisionsParquet(decisions));
    await writePart(dir, archivePartKey("outcomes", day, `synthetic${part}`), outcomesParquet(outcomes));
  }
}

async function writePart(dir: string, key: string, body: ArrayBuffer): Promise<void> {
  await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
  await writeFile(path.join(dir, key), new Uint8Array(body));
}

interface BuildFigures {
  states: number;
  steps: number;
  linked: number;
  seconds: number;
  peakRssMb: number;
}

async function buildInChild(dir: string): Promise<BuildFigures> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "bench", "archive-transitions.ts"), dir], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

export const archiveScale: Measurement = {
  name: "archive-scale",
  description:
    "building transitions from synthetic Parquet archives of 1M and 5M decisions (DuckDB join and sort, streamed builder): rows/s and peak memory",
  async run({ quick, log }) {
    // Both sizes past what DuckDB holds in its 512 MB, so that both builds spill as a large one does.
    const sizes = quick ? [500_000, 1_000_000] : [1_000_000, 5_000_000];
    const { run: simulated } = simulateLogs({
      seed: 2718,
      decisions: 2_000,
      policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
    });
    const results = [];
    for (const size of sizes) {
      const dir = await mkdtemp(path.join(tmpdir(), "edge-promo-archive-scale-"));
      try {
        log(`archive-scale: writing ${size.toLocaleString("en-US")} decisions and their outcomes as Parquet parts`);
        await writeArchive(dir, simulated.steps, size);
        log(`archive-scale: building their transitions in a child process`);
        const built = await buildInChild(dir);
        if (built.states !== size) throw new Error(`built ${built.states} states of ${size} decisions`);
        results.push({ size, ...built });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
    const ratio = large.peakRssMb / small.peakRssMb;
    const rows = (n: number) => n.toLocaleString("en-US");
    return [
      {
        metric: "archive_read_rows_per_s",
        value: round(large.size / large.seconds),
        unit: "rows/s",
        rows: large.size,
        seconds: round(large.seconds),
        note: `${rows(large.size)} decisions built into ${rows(large.steps)} steps (${rows(large.linked)} with a next state) in ${round(large.seconds)} s: DuckDB (512 MB limit) joins the outcomes and sorts trajectories, the builder checks, encodes, credits and links`,
      },
      { metric: "trainer_peak_rss_mb", value: round(small.peakRssMb), unit: "MB", rows: small.size },
      { metric: "trainer_peak_rss_mb", value: round(large.peakRssMb), unit: "MB", rows: large.size },
      withTarget(
        {
          metric: "trainer_peak_rss_ratio",
          value: round(ratio),
          unit: "ratio",
          note: `peak RSS of the process building transitions: ${round(small.peakRssMb)} MB at ${rows(small.size)} decisions, ${round(large.peakRssMb)} MB at ${rows(large.size)}`,
        },
        "<=",
        1.5,
      ),
    ];
  },
};
