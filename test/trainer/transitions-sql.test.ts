import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { buildDataset } from "../../trainer/data/build-dataset.ts";
import { controlChooser } from "../../trainer/sim/chooser.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { writeArchiveDir } from "./support/archive-dir.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const run = simulateTraffic({
  seed: 4242,
  visitors: 400,
  policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
});
const decisions = run.steps.map((s) => s.decision);
const outcomes = run.steps.flatMap((s) => s.outcomes);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "edge-promo-transitions-sql-"));
  await writeArchiveDir(dir, decisions, outcomes);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const transitionRow = z.object({
  id: z.string(),
  action: z.string(),
  propensity: z.number(),
  reward: z.number(),
  next_id: z.string().nullable(),
});

test("docs/transitions.sql, shown in the README, builds the trainer's transitions from the archive", async () => {
  const sql = await readFile(path.join(ROOT, "docs/transitions.sql"), "utf8");
  expect(await readFile(path.join(ROOT, "README.md"), "utf8")).toContain(sql.trim());

  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  let rows: z.infer<typeof transitionRow>[];
  try {
    const result = await connection.run(sql.replaceAll("'archive/", `'${dir}/`));
    rows = (await result.getRowObjectsJS()).map((row) => transitionRow.parse(row));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }

  const dataset = buildDataset(decisions, outcomes, {
    catalogue: DEFAULT_CATALOGUE,
    reward: DEFAULT_REWARD_SPEC,
    now: Date.now(),
  });
  expect(dataset.heldBack).toBe(0);
  const idOfState = new Map(dataset.steps.map((s) => [s.state, s.decisionId]));
  expect(rows.map((r) => r.id)).toEqual(dataset.steps.map((s) => s.decisionId));
  expect(rows.filter((r) => r.next_id !== null).length).toBeGreaterThan(100);
  expect(rows.filter((r) => r.reward !== 0).length).toBeGreaterThan(10);
  dataset.steps.forEach((step, i) => {
    const row = rows[i]!;
    expect(row.action).toBe(dataset.actions[step.action]);
    expect(row.propensity).toBe(step.propensity);
    expect(row.reward).toBeCloseTo(step.reward, 9);
    expect(row.next_id).toBe(step.next === -1 ? null : idOfState.get(step.next));
  });
});
