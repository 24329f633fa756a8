/**
 * archive_read_rows_per_s, archive_read_peak_rss_mb (1M and 5M decisions) and their ratio: the
 * trainer's archive source over a synthetic archive laid out as the Worker writes it (Parquet parts
 * of 100,000 decisions, one per day), in a temporary directory. The rows repeat 2,000 real ones
 * (simulated shoppers under the fallback) under new ids, visitors and times, so sizes and encodings
 * are a real row's. Each read runs alone in a child process (bench/archive-read.ts), which reports its
 * own peak memory. What is read: every decision, deduplicated by id and ordered by time, through
 * DuckDB with a 512 MB memory limit (it spills past it), then validated into rows. Not measured:
 * building transitions (the dataset builder holds them in memory).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { archiveDay, archivePartKey } from "../shared/archive.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import type { DecisionRow } from "../shared/schema.ts";
import { decisionsParquet } from "../edge/archive/parquet.ts";
import { controlChooser } from "../trainer/sim/chooser.ts";
import { simulateLogs } from "../trainer/sim/pipeline.ts";
import { ROOT } from "./harness.ts";
import { round } from "./stats.ts";
import { withTarget, type Measurement } from "./types.ts";

const run = promisify(execFile);
const PART_ROWS = 100_000;
const DAY_MS = 86_400_000;

async function writeArchive(dir: string, templates: readonly DecisionRow[], total: number): Promise<void> {
  const start = Date.UTC(2026, 0, 1);
  for (let part = 0; part * PART_ROWS < total; part++) {
    const rows: DecisionRow[] = [];
    for (let i = part * PART_ROWS; i < Math.min(total, (part + 1) * PART_ROWS); i++) {
      const t = templates[i % templates.length]!;
      rows.push({
        ...t,
        id: `d${i}`,
        visitorHash: `v${i % 200_000}`.padEnd(64, "0"),
        ts: start + part * DAY_MS + (i % PART_ROWS) * 800,
      });
    }
    const key = archivePartKey("decisions", archiveDay(rows[0]!.ts), `synthetic${part}`);
    await mkdir(path.dirname(path.join(dir, key)), { recursive: true });
    await writeFile(path.join(dir, key), new Uint8Array(decisionsParquet(rows)));
  }
}

async function readInChild(dir: string): Promise<{ rows: number; seconds: number; peakRssMb: number }> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, "bench", "archive-read.ts"), dir], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

export const archiveScale: Measurement = {
  name: "archive-scale",
  description:
    "the trainer's archive source over synthetic Parquet archives of 1M and 5M decisions: rows/s and peak memory",
  async run({ quick, log }) {
    const sizes = quick ? [100_000, 500_000] : [1_000_000, 5_000_000];
    const { run: simulated } = simulateLogs({
      seed: 2718,
      decisions: 2_000,
      policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
    });
    const templates = simulated.steps.map((s) => s.decision);
    const results = [];
    for (const size of sizes) {
      const dir = await mkdtemp(path.join(tmpdir(), "edge-promo-archive-scale-"));
      try {
        log(`archive-scale: writing ${size.toLocaleString("en-US")} decisions as Parquet parts`);
        await writeArchive(dir, templates, size);
        log(`archive-scale: reading them in a child process`);
        const read = await readInChild(dir);
        if (read.rows !== size) throw new Error(`read ${read.rows} of ${size} decisions`);
        results.push({ size, ...read });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
    const ratio = large.peakRssMb / small.peakRssMb;
    return [
      {
        metric: "archive_read_rows_per_s",
        value: round(large.size / large.seconds),
        unit: "rows/s",
        rows: large.size,
        seconds: round(large.seconds),
        note: `${large.size.toLocaleString("en-US")} decisions read from Parquet through DuckDB (dedup by id, ordered by time, 512 MB memory limit), validated into rows, in ${round(large.seconds)} s`,
      },
      { metric: "archive_read_peak_rss_mb", value: round(small.peakRssMb), unit: "MB", rows: small.size },
      { metric: "archive_read_peak_rss_mb", value: round(large.peakRssMb), unit: "MB", rows: large.size },
      withTarget(
        {
          metric: "archive_read_peak_rss_ratio",
          value: round(ratio),
          unit: "ratio",
          note: `peak RSS of the reading process: ${round(small.peakRssMb)} MB at ${small.size.toLocaleString("en-US")} decisions, ${round(large.peakRssMb)} MB at ${large.size.toLocaleString("en-US")}; reading only (building transitions still holds them in memory)`,
        },
        "<=",
        1.5,
      ),
    ];
  },
};
