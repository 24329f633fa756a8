import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { archivePending } from "../../edge/archive/archiver.ts";
import { writeLogMessages } from "../../edge/logging/d1-writer.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import type { LogMessage } from "../../shared/schema.ts";
import { loadDataset } from "../../trainer/cli/load-dataset.ts";
import { DEFAULT_ATTRIBUTION_WINDOW_MS, DEFAULT_HORIZON_MS } from "../../trainer/data/build-dataset.ts";
import { openLocalBindings } from "../../trainer/runtime/local-bindings.ts";
import { controlChooser } from "../../trainer/sim/chooser.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { readAllLogs } from "../../trainer/sources/read-all.ts";
import { openLogSource } from "../../trainer/sources/index.ts";
import { applyLocalMigrations } from "../../scripts/local-env.ts";

let dir: string;

/** Simulated logs in local D1, archived by the Worker's own archiver, twice (a re-run must not duplicate). */
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "edge-promo-archive-src-"));
  await applyLocalMigrations(dir);
  const run = simulateTraffic({
    seed: 808,
    visitors: 300,
    policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
  });
  const messages: LogMessage[] = run.steps.flatMap((s) => [
    { type: "decision" as const, row: s.decision },
    ...s.outcomes.map((row) => ({ type: "outcome" as const, row })),
  ]);
  const bindings = await openLocalBindings({ persistTo: dir });
  try {
    await writeLogMessages(bindings.DB, messages);
    await archivePending(bindings.DB, bindings.ARCHIVE);
    // Flags lost (a crash between the copy and the flag): the next run writes the same parts again.
    await bindings.DB.prepare("UPDATE decisions SET archived = 0").run();
    await archivePending(bindings.DB, bindings.ARCHIVE);
  } finally {
    await bindings.dispose();
  }
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("--source archive reads back exactly the rows of --source local, and builds the same dataset", async () => {
  const io = { log: vi.fn(), quiet: true };
  const read = async (kind: "local" | "archive") => {
    const source = await openLogSource({ kind, persistTo: dir });
    try {
      return await readAllLogs(source, { quiet: true });
    } finally {
      await source.close();
    }
  };
  const [local, archive] = [await read("local"), await read("archive")];
  expect(archive.decisions.length).toBeGreaterThan(1000);
  expect(archive.decisions).toEqual(local.decisions);
  expect(archive.outcomes).toEqual(local.outcomes);

  const options = {
    attributionWindowMs: DEFAULT_ATTRIBUTION_WINDOW_MS,
    horizonMs: DEFAULT_HORIZON_MS,
    catalogueFiles: [],
  };
  const fromLocal = await loadDataset({ source: { kind: "local", persistTo: dir }, ...options }, io);
  const fromArchive = await loadDataset({ source: { kind: "archive", persistTo: dir }, ...options }, io);
  expect(fromArchive.dataset.steps).toEqual(fromLocal.dataset.steps);
  expect(fromArchive.unused).toEqual(fromLocal.unused);
}, 120_000);
