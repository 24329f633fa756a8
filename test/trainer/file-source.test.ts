import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { DEFAULT_ENCODER } from "../../trainer/data/encoders.ts";
import { DEFAULT_CATALOGUE_DOCUMENT } from "../../shared/catalogue-document.ts";
import {
  compileFeatureSpec,
  DEFAULT_COMPILED_SPEC,
  DEFAULT_FEATURE_SPEC,
  withProfileFields,
} from "../../shared/features.ts";
import { EXAMPLE_PROFILE_FIELDS } from "../../shared/profile.ts";
import { LOG_META_VERSION, setupFromMeta, type LogMeta } from "../../trainer/data/log-meta.ts";
import { exportLogs } from "../../trainer/sources/write-export.ts";
import { fileSource } from "../../trainer/sources/file.ts";
import { openLogSource, parseSourceSpec } from "../../trainer/sources/index.ts";
import type { LogSource } from "../../trainer/sources/log-source.ts";
import { readAllLogs } from "../../trainer/sources/read-all.ts";
import { DAY, decisionRow, outcomeRow } from "./support/log-rows.ts";
import { memorySource } from "./support/memory-source.ts";
import { tmpdir } from "node:os";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { loadDataset } from "../../trainer/cli/load-dataset.ts";
import { uniformChooser } from "../../trainer/sim/chooser.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { DEFAULT_SIM_MODEL, NEW_PROMOTION, withPromotion } from "../../trainer/sim/model.ts";
import { unionOfCatalogues } from "../../trainer/data/catalogue-union.ts";

const T0 = Date.UTC(2026, 0, 1);
const decisions: DecisionRow[] = Array.from({ length: 8 }, (_, i) =>
  decisionRow({
    id: `d${i}`,
    ts: T0 + i * DAY,
    visitorHash: `v${i % 3}`,
    explored: i % 2 === 1,
    propensity: 0.1 + i / 100,
  }),
);
const outcomes: OutcomeRow[] = [
  outcomeRow({ decisionId: "d0", ts: T0 + 1000 }),
  outcomeRow({ decisionId: "d1", ts: T0 + DAY + 5000, kind: "conversion", value: 123.45, eventKey: "order-9" }),
  outcomeRow({ decisionId: "d1", ts: T0 + 3 * DAY, kind: "refund", value: 20, eventKey: "order-9" }),
];
const META: LogMeta = {
  type: "meta",
  version: LOG_META_VERSION,
  dataset: "test logs",
  encoder: { name: "edge-context" },
};

let dir: string;
beforeAll(async () => {
  await mkdir(".tmp", { recursive: true });
  dir = await mkdtemp(join(".tmp", "file-source-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("exportLogs then the file source", () => {
  test("reads back exactly what was exported, meta line included", async () => {
    const path = join(dir, "round-trip.jsonl");
    await expect(exportLogs(memorySource(decisions, outcomes, META), path, { quiet: true })).resolves.toEqual({
      decisions: 8,
      outcomes: 3,
    });
    const logs = await readAllLogs(fileSource(path, { pageSize: 3 }), { quiet: true });
    expect(logs).toEqual({ meta: META, decisions, outcomes, rejected: {} });
    expect(await readdir(dir)).not.toContain("round-trip.jsonl.partial");
  });

  test("writes LogMessage lines, and no meta line for a source without one", async () => {
    const path = join(dir, "plain.jsonl");
    await exportLogs(memorySource(decisions.slice(0, 1), outcomes.slice(0, 1)), path, { quiet: true });
    const lines = (await readFile(path, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([
      { type: "decision", row: decisions[0] },
      { type: "outcome", row: outcomes[0] },
    ]);
    await expect(fileSource(path).meta()).resolves.toBeUndefined();
  });

  test("leaves no file behind when the source fails midway", async () => {
    const path = join(dir, "failed.jsonl");
    const failing: LogSource = {
      ...memorySource(decisions, outcomes),
      async *decisions() {
        yield decisions.slice(0, 2);
        throw new Error("connection lost");
      },
    };
    await expect(exportLogs(failing, path, { quiet: true })).rejects.toThrow("connection lost");
    expect((await readdir(dir)).filter((name) => name.startsWith("failed"))).toEqual([]);
  });
});

describe("file source", () => {
  const good = (message: unknown) => JSON.stringify(message);
  const content = [
    good(META), // 1
    good({ type: "decision", row: decisions[0] }), // 2
    "{ not json", // 3
    good({ type: "decision", row: { ...decisions[1], id: undefined } }), // 4
    "", // 5: blank lines are not data
    good({ type: "outcome", row: { ...outcomes[0], kind: "purchase" } }), // 6
    good({ type: "heartbeat" }), // 7
    good(META), // 8
    good({ type: "outcome", row: outcomes[0] }), // 9
    good({ type: "decision", row: decisions[2] }), // 10
    "[1,2,3]", // 11
  ].join("\n");
  let path: string;
  beforeAll(async () => {
    path = join(dir, "bad-lines.jsonl");
    await writeFile(path, content);
  });

  test("keeps the good rows and counts each bad line once, by reason, with its line number", async () => {
    const source = fileSource(path, { pageSize: 1 });
    const logs = await readAllLogs(source, { quiet: true });
    expect(logs.decisions).toEqual([decisions[0], decisions[2]]);
    expect(logs.outcomes).toEqual([outcomes[0]]);
    expect(logs.rejected).toEqual({
      "bad-json": { count: 1, lines: [3] },
      "invalid-decision-row": { count: 1, lines: [4] },
      "invalid-outcome-row": { count: 1, lines: [6] },
      "unknown-type": { count: 2, lines: [7, 11] },
      "misplaced-meta": { count: 1, lines: [8] },
    });
    // Reading again does not double the counts.
    await readAllLogs(source, { quiet: true });
    expect(source.rejected()["unknown-type"]).toEqual({ count: 2, lines: [7, 11] });
  });

  test("refuses a file whose meta line it cannot understand", async () => {
    const broken = join(dir, "broken-meta.jsonl");
    await writeFile(broken, `${JSON.stringify({ ...META, encoder: { name: "word2vec" } })}\n`);
    await expect(fileSource(broken).meta()).rejects.toThrow(/broken-meta\.jsonl:1: invalid meta line/);
  });

  test("without a meta line, rows are read as edge logs: the built-in catalogue, or the operator's with its profile fields", () => {
    const builtIn = setupFromMeta(undefined).encoder;
    expect(builtIn.hash).toBe(DEFAULT_ENCODER.hash);
    expect(builtIn.actions).toEqual(DEFAULT_ENCODER.actions);
    const document = { ...DEFAULT_CATALOGUE_DOCUMENT, profile: EXAMPLE_PROFILE_FIELDS };
    const withProfile = setupFromMeta(undefined, document).encoder;
    expect(withProfile.hash).toBe(
      compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS)).hash,
    );
    expect(withProfile.width).toBeGreaterThan(builtIn.width);
  });
});

describe("openLogSource", () => {
  test("opens file:<path>", async () => {
    const path = join(dir, "round-trip.jsonl");
    const source = await openLogSource(parseSourceSpec(`file:${path}`));
    expect(source.description).toBe(`file ${path}`);
  });

  test("says what is wrong with a source it cannot open", async () => {
    await expect(openLogSource(parseSourceSpec("file:/nonexistent/logs.jsonl"))).rejects.toThrow(
      "cannot read log file /nonexistent/logs.jsonl",
    );
    // A bad spec or missing credentials fail while parsing, before any I/O.
    expect(() => parseSourceSpec("s3://bucket")).toThrow(
      /unknown log source "s3:\/\/bucket"; expected local \| remote \| archive \| archive:r2 \| file:/,
    );
    expect(() => parseSourceSpec("remote", { env: {} })).toThrow(/CLOUDFLARE_ACCOUNT_ID/);
  });
});

describe("promo train --catalogue: logs read with the operator's document", () => {
  test("its profile fields extend the spec the logs are encoded with, from the raw contexts", async () => {
    const spec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS));
    const run = simulateTraffic({
      seed: 4,
      visitors: 40,
      policy: uniformChooser(DEFAULT_CATALOGUE, spec),
      spec,
    });
    const work = await mkdtemp(join(tmpdir(), "edge-promo-catalogue-"));
    try {
      const logs = join(work, "logs.jsonl");
      const lines = run.steps.flatMap((step) => [
        JSON.stringify({ type: "decision", row: step.decision }),
        ...step.outcomes.map((row) => JSON.stringify({ type: "outcome", row })),
      ]);
      await writeFile(logs, `${lines.join("\n")}\n`);
      const document = join(work, "catalogue.json");
      await writeFile(document, JSON.stringify({ promotions: DEFAULT_CATALOGUE, profile: EXAMPLE_PROFILE_FIELDS }));
      const io = { log: () => {}, quiet: true };
      const options = { attributionWindowMs: 7 * DAY, horizonMs: 7 * DAY, source: parseSourceSpec(`file:${logs}`, {}) };

      const withProfile = await loadDataset({ ...options, catalogueFiles: [document] }, io);
      expect(withProfile.dataset.featureSpecHash).toBe(spec.hash);
      expect(withProfile.dataset.featureWidth).toBe(spec.width);
      expect(withProfile.dataset.steps.length).toBeGreaterThan(100);

      // Without the document, the same rows are re-encoded with the built-in spec, profile ignored.
      const builtIn = await loadDataset({ ...options, catalogueFiles: [] }, io);
      expect(builtIn.dataset.featureSpecHash).toBe(DEFAULT_ENCODER.hash);
      expect(builtIn.dataset.steps.length).toBe(withProfile.dataset.steps.length);

      await writeFile(document, JSON.stringify({ promotions: [] }));
      await expect(loadDataset({ ...options, catalogueFiles: [document] }, io)).rejects.toThrow(
        /catalogue\/current: promotions/,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("promo train over a catalogue change: --catalogue current --catalogue old", () => {
  test("the actions are the union of the promotions, and no row of either catalogue is lost", async () => {
    const thisWeek = [...DEFAULT_CATALOGUE.filter((p) => p.id !== "pct20"), NEW_PROMOTION.promotion];
    const lastWeekRun = simulateTraffic({
      seed: 4,
      visitors: 40,
      policy: uniformChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC),
    });
    const thisWeekModel = {
      ...withPromotion(DEFAULT_SIM_MODEL, NEW_PROMOTION.promotion, NEW_PROMOTION.params),
      catalogue: thisWeek,
    };
    const thisWeekRun = simulateTraffic({
      seed: 5,
      visitors: 40,
      policy: uniformChooser(thisWeek, DEFAULT_COMPILED_SPEC),
      model: thisWeekModel,
    });
    const work = await mkdtemp(join(tmpdir(), "edge-promo-union-"));
    try {
      const logs = join(work, "logs.jsonl");
      const lines = [...lastWeekRun.steps, ...thisWeekRun.steps].flatMap((step) => [
        JSON.stringify({ type: "decision", row: step.decision }),
        ...step.outcomes.map((row) => JSON.stringify({ type: "outcome", row })),
      ]);
      await writeFile(logs, `${lines.join("\n")}\n`);
      const current = join(work, "this-week.json");
      const old = join(work, "last-week.json");
      await writeFile(current, JSON.stringify({ promotions: thisWeek }));
      await writeFile(old, JSON.stringify({ promotions: DEFAULT_CATALOGUE }));
      const io = { log: () => {}, quiet: true };
      const options = { attributionWindowMs: 7 * DAY, horizonMs: 7 * DAY, source: parseSourceSpec(`file:${logs}`, {}) };
      const rows = lastWeekRun.steps.length + thisWeekRun.steps.length;

      const currentOnly = await loadDataset({ ...options, catalogueFiles: [current] }, io);
      expect(currentOnly.dataset.actions).toEqual(thisWeek.map((p) => p.id));
      expect(currentOnly.dataset.steps.length).toBeLessThan(rows);
      // Last week's rows that showed pct20, or could have: unusable under this week's catalogue alone.
      expect(currentOnly.unused["decision:unknown-action"]).toBeGreaterThan(0);
      expect(currentOnly.unused["decision:unknown-eligible-action"]).toBeGreaterThan(0);

      const both = await loadDataset({ ...options, catalogueFiles: [current, old] }, io);
      expect(both.dataset.actions).toEqual([...thisWeek.map((p) => p.id), "pct20"]);
      expect(both.dataset.steps.length).toBe(rows);
      expect(both.unused).toEqual({});
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  test("catalogues with other profile fields cannot be joined", () => {
    const plain = { ...DEFAULT_CATALOGUE_DOCUMENT };
    const profiled = { ...DEFAULT_CATALOGUE_DOCUMENT, profile: EXAMPLE_PROFILE_FIELDS };
    expect(() => unionOfCatalogues([profiled, plain])).toThrow(/other profile fields/);
    expect(unionOfCatalogues([profiled, profiled]).promotions).toEqual(DEFAULT_CATALOGUE);
  });
});
