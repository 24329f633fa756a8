import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import {
  buildDataset,
  buildDatasetFromTrajectories,
  TransitionBuilder,
  type BuildDatasetOptions,
} from "../../trainer/data/build-dataset.ts";
import { archiveDirectorySource } from "../../trainer/sources/archive.ts";
import { writeArchiveDir } from "./support/archive-dir.ts";
import { FIXTURE_DECISIONS, FIXTURE_OUTCOMES, NOW, unusable, unattributable } from "./support/dataset-fixture.ts";
import { DAY, decisionRow } from "./support/log-rows.ts";

const OPTIONS: BuildDatasetOptions = { catalogue: DEFAULT_CATALOGUE, reward: DEFAULT_REWARD_SPEC, now: NOW };

// D1's primary keys keep these two out of any archive: an id logged twice, an outcome reported twice.
const duplicateDecision = new Set(unusable["decision:duplicate-id"]);
const duplicateOutcome = new Set(unattributable["outcome:duplicate"]);
const decisions = FIXTURE_DECISIONS.filter((row) => !duplicateDecision.has(row));
const outcomes = FIXTURE_OUTCOMES.filter((row) => !duplicateOutcome.has(row));

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "edge-promo-trajectories-"));
  await writeArchiveDir(dir, decisions, outcomes, 2);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the archive's trajectories (DuckDB sorts and joins, the builder reads in order)", () => {
  test.each([
    ["in one range of visitors", undefined],
    ["in ranges of about 3 decisions", 3],
  ])("build the same dataset as the in-memory builder on the same rows, copies collapsed, %s", async (_, rows) => {
    const source = await archiveDirectorySource(dir, rows === undefined ? {} : { visitorRangeRows: rows });
    try {
      const fromArchive = await buildDatasetFromTrajectories(source.trajectories!(), OPTIONS);
      const inMemory = buildDataset(decisions, outcomes, OPTIONS);
      expect(fromArchive.steps.map((s) => s.decisionId)).toEqual(["a1", "a2", "a3", "b1", "c1", "d1", "e1"]);
      expect(fromArchive.steps).toEqual(inMemory.steps);
      expect(fromArchive.states).toEqual(inMemory.states);
      expect(fromArchive.heldBack).toBe(1);
      expect(fromArchive.skipped).toEqual(inMemory.skipped);
      expect(fromArchive.skipped).toMatchObject({
        "outcome:without-decision": 1,
        "outcome:outside-window": 2,
        "outcome:bad-value": 1,
        "outcome:decision-unusable": 1,
      });
    } finally {
      await source.close();
    }
  });

  test("an archive with outcomes but no decisions yet counts every outcome as without a decision", async () => {
    const only = await mkdtemp(path.join(tmpdir(), "edge-promo-trajectories-"));
    try {
      await writeArchiveDir(only, [], outcomes);
      const source = await archiveDirectorySource(only);
      try {
        const dataset = await buildDatasetFromTrajectories(source.trajectories!(), OPTIONS);
        expect(dataset.steps).toEqual([]);
        expect(dataset.skipped).toEqual({ "outcome:without-decision": outcomes.length - 1, "outcome:bad-value": 1 });
      } finally {
        await source.close();
      }
    } finally {
      await rm(only, { recursive: true, force: true });
    }
  });
});

test("the builder refuses decisions out of trajectory order, which would link the wrong next states", () => {
  const builder = new TransitionBuilder(OPTIONS, { state: () => 0, step: () => {} });
  builder.add({ decision: decisionRow({ id: "late", ts: NOW - DAY }), outcomes: [] });
  expect(() => builder.add({ decision: decisionRow({ id: "early", ts: NOW - 2 * DAY }), outcomes: [] })).toThrow(
    /early is out of trajectory order/,
  );
});
