import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { main } from "../../trainer/cli/main.ts";
import { buildDataset } from "../../trainer/data/build-dataset.ts";
import { readCsv } from "../../trainer/obd/csv.ts";
import type { Dataset } from "../../trainer/data/dataset.ts";
import { OBD_REWARD_SPEC, importObd, impressionMessages, type ObdImportSummary } from "../../trainer/obd/import.ts";
import { setupFromMeta, type LogSetup } from "../../trainer/data/log-meta.ts";
import { obdEncoder, type ObdEncoderDescriptor } from "../../trainer/obd/encoder.ts";
import { fileSource } from "../../trainer/sources/file.ts";
import { readAllLogs, type LoadedLogs } from "../../trainer/sources/read-all.ts";
import { fileURLToPath } from "node:url";

/** The data folder beside the checkout (`../shared/data`), wherever the checkout is. */
const OBD = fileURLToPath(new URL("../../../shared/data/obd/", import.meta.url));
const RANDOM_MEN = `${OBD}random/men`;

let dir: string;
beforeAll(async () => {
  await mkdir(".tmp", { recursive: true });
  dir = await mkdtemp(join(".tmp", "obd-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("OBD import of random/men", () => {
  let summary: ObdImportSummary;
  let logs: LoadedLogs;
  let setup: LogSetup;
  let dataset: Dataset;
  beforeAll(async () => {
    const path = join(dir, "random-men.jsonl");
    summary = await importObd(RANDOM_MEN, path, { quiet: true });
    logs = await readAllLogs(fileSource(path), { quiet: true });
    setup = setupFromMeta(logs.meta);
    dataset = buildDataset(logs.decisions, logs.outcomes, { ...setup, now: Date.now() });
  });

  test("writes one decision per impression and one click outcome per click", () => {
    expect(summary).toMatchObject({ decisions: 10_000, clicks: 46 });
    expect(logs.decisions).toHaveLength(10_000);
    expect(logs.outcomes).toHaveLength(46);
    expect(logs.outcomes.every((o) => o.kind === "click")).toBe(true);
    expect(logs.rejected).toEqual({});
  });

  test("logs the uniform policy's propensity, every item eligible", () => {
    expect(logs.decisions.every((d) => Math.abs(d.propensity - 1 / 34) < 1e-12)).toBe(true);
    expect(JSON.parse(logs.decisions[0]!.eligible)).toHaveLength(34);
    expect(logs.decisions[0]).toMatchObject({
      id: "obd-random-men-0",
      action: "item_14",
      policyVersion: "obd-random",
      explored: true,
    });
  });

  test("the meta line brings back the importer's encoder, actions and click-only reward", () => {
    expect(logs.meta).toMatchObject({
      type: "meta",
      dataset: "obd random/men",
      encoder: { name: "obd", itemCount: 34, positionCount: 3 },
    });
    expect(setup.reward).toEqual(OBD_REWARD_SPEC);
    expect(setup.encoder.hash).toBe(logs.decisions[0]!.featureSpecHash);
    expect(setup.catalogue.map((p) => p.id)).toEqual(Array.from({ length: 34 }, (_, i) => `item_${i}`));
    // user_feature_0 has 3 values in this file (+ other), times 3 positions.
    expect(setup.encoder.stateCount).toBe(12);
    expect(setup.encoder.width).toBe(4 + 6 + 10 + 9 + 34 + 3);
  });

  test("becomes 10,000 terminal steps worth 46 clicks in all", () => {
    expect(dataset.steps).toHaveLength(10_000);
    expect(dataset.steps.reduce((sum, s) => sum + s.reward, 0)).toBe(46);
    expect(dataset.skipped).toEqual({});
    expect(dataset.heldBack).toBe(0);
    // No user identity across rows: every impression is its own trajectory.
    expect(dataset.steps.every((s) => s.next === -1)).toBe(true);
    expect(new Set(dataset.steps.map((s) => s.visitor)).size).toBe(10_000);
    expect(dataset.states.every((s) => s.stateKey >= 0 && s.stateKey < 12)).toBe(true);
  });

  test("its control is the random campaign that logged it, and promo train compares with it", async () => {
    expect(setup.control).toEqual({ action: "item_0", exploration: 1 });
    const out = join(dir, "obd-policy.bin");
    const args = ["train", "--source", `file:${join(dir, "random-men.jsonl")}`, "--algo", "qtable", "--gamma", "0"];
    expect(await main([...args, "--out", out, "--report", join(dir, "obd.html"), "--quiet"])).toBe(0);
    expect((await stat(out)).size).toBeGreaterThan(0);
    // The safe learner's exploration is checked before any I/O: a wrong choice is a usage error.
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await main([...args, "--explore", "sideways", "--quiet"])).toBe(2);
    expect(printed.mock.calls.map((c) => String(c[0])).join("")).toMatch(/--explore/);
    printed.mockRestore();
  });

  test("stored features equal a fresh encoding of the logged raw context", () => {
    for (const row of logs.decisions.slice(0, 50)) {
      const encoded = setup.encoder.encode(JSON.parse(row.context));
      if ("error" in encoded) throw new Error(encoded.error);
      expect(Array.from(encoded.features)).toEqual(JSON.parse(row.features));
      expect(encoded.stateKey).toBe(row.stateKey);
    }
  });
});

test("imports the Thompson-sampling log with its own propensities", async () => {
  const path = join(dir, "bts-men.jsonl");
  await expect(importObd(`${OBD}bts/men`, path, { quiet: true })).resolves.toMatchObject({
    decisions: 10_000,
    clicks: 69,
  });
  const logs = await readAllLogs(fileSource(path), { quiet: true });
  const dataset = buildDataset(logs.decisions, logs.outcomes, { ...setupFromMeta(logs.meta), now: Date.now() });
  expect(dataset.steps.reduce((sum, s) => sum + s.reward, 0)).toBe(69);
  expect(new Set(logs.decisions.map((d) => d.propensity)).size).toBeGreaterThan(1);
});

describe("OBD encoder", () => {
  const descriptor: ObdEncoderDescriptor = {
    name: "obd",
    userFeatureValues: [["a", "b"], ["x"], ["p"], ["q"]],
    itemCount: 2,
    positionCount: 3,
  };
  const encoder = obdEncoder(descriptor);

  test("one-hots user features (unknown values as other), log1p affinities, one-hot position", () => {
    const encoded = encoder.encode({
      position: 2,
      userFeatures: ["b", "unseen", "p", "q"],
      affinities: [0, Math.E - 1],
    });
    if ("error" in encoded) throw new Error(encoded.error);
    expect(encoder.slotNames).toEqual([
      "user_feature_0=a",
      "user_feature_0=b",
      "user_feature_0=other",
      "user_feature_1=x",
      "user_feature_1=other",
      "user_feature_2=p",
      "user_feature_2=other",
      "user_feature_3=q",
      "user_feature_3=other",
      "affinity_item_0",
      "affinity_item_1",
      "position=1",
      "position=2",
      "position=3",
    ]);
    expect(Array.from(encoded.features)).toEqual([0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0]);
    expect(encoded.stateKey).toBe(1 * 3 + 1);
    expect(encoder.stateCount).toBe(9);
  });

  test("refuses contexts of the wrong shape", () => {
    expect(encoder.encode({ position: 4, userFeatures: ["a", "x", "p", "q"], affinities: [0, 0] })).toEqual({
      error: "context-invalid",
    });
    expect(encoder.encode({ position: 1, userFeatures: ["a", "x", "p", "q"], affinities: [0] })).toEqual({
      error: "context-invalid",
    });
    expect(encoder.encode("not a context")).toEqual({ error: "context-invalid" });
  });

  test("a click becomes a click outcome on the decision", () => {
    const messages = impressionMessages(
      {
        index: "7",
        ts: 1000,
        item: 1,
        position: 3,
        click: true,
        propensity: 0.5,
        userFeatures: ["a", "x", "p", "q"],
        affinities: [1, 0],
      },
      { policy: "bts", campaign: "women" },
      encoder,
    );
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({
      type: "decision",
      row: { id: "obd-bts-women-7", action: "item_1", propensity: 0.5, explored: false },
    });
    expect(messages[1]).toEqual({
      type: "outcome",
      row: { decisionId: "obd-bts-women-7", ts: 1000, kind: "click", value: 0, eventKey: "" },
    });
  });
});

describe("readCsv", () => {
  test("maps fields by header and refuses quoting and ragged rows", async () => {
    const path = join(dir, "t.csv");
    await writeFile(path, ",a,b\n0,1,2\n");
    const records = [];
    for await (const record of readCsv(path)) records.push(record);
    expect(records).toEqual([{ line: 2, values: { "": "0", a: "1", b: "2" } }]);

    await writeFile(path, 'a,b\n"1,5",2\n');
    await expect(readCsv(path).next()).rejects.toThrow(/t\.csv:2: quoted CSV fields are not supported/);
    await writeFile(path, "a,b\n1\n");
    await expect(readCsv(path).next()).rejects.toThrow(/t\.csv:2: 1 fields where the header has 2/);
  });
});
