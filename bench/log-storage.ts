/**
 * log_row_bytes (one line per tier: D1 and the archive), d1_days_at_10m_views: what a logged decision costs to keep.
 * 50,000 decisions of simulated shoppers under the fallback (with their outcomes, as the edge logs
 * them) are written into SQLite with the project's migrations (D1 is SQLite: the same tables,
 * indexes and page layout), and the file's growth is divided by the decisions; the same rows are
 * written as the archive writes them (Parquet, snappy, one part per table and day) and measured
 * the same way. D1 caps a database at 10 GB.
 */
import { DatabaseSync } from "node:sqlite";
import { partitionByDay } from "../shared/archive.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import type { DecisionRow, OutcomeRow } from "../shared/schema.ts";
import { decisionsParquet, outcomesParquet } from "../edge/archive/parquet.ts";
import { readMigrations } from "../scripts/migrations.ts";
import { controlChooser } from "../trainer/sim/chooser.ts";
import { simulateLogs } from "../trainer/sim/pipeline.ts";
import { round } from "./stats.ts";
import type { Measurement } from "./types.ts";

const D1_LIMIT_BYTES = 10 * 1024 ** 3;
const VIEWS_PER_DAY = 10_000_000;

function sqliteBytes(db: DatabaseSync): number {
  const pages = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const size = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return pages.page_count * size.page_size;
}

export const logStorage: Measurement = {
  name: "log-storage",
  description:
    "bytes per logged decision in D1 (SQLite with the migrations) and in the Parquet archive; days of 10M views/day in 10 GB",
  async run({ quick, log }) {
    const target = quick ? 10_000 : 50_000;
    log(`log-storage: simulating ${target} decisions of the fallback`);
    const { run } = simulateLogs({
      seed: 5150,
      decisions: target,
      policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
    });
    const decisions: DecisionRow[] = run.steps.map((s) => s.decision);
    const outcomes: OutcomeRow[] = run.steps.flatMap((s) => s.outcomes);

    const db = new DatabaseSync(":memory:");
    for (const migration of readMigrations()) for (const query of migration.queries) db.exec(query);
    db.exec("VACUUM");
    const empty = sqliteBytes(db);
    const insertDecision = db.prepare(
      `INSERT INTO decisions (id, ts, visitor_hash, policy_version, feature_spec_hash, context, features, state_key,
         eligible, action, propensity, explored, experiment_id, arm, shadow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertOutcome = db.prepare(
      "INSERT INTO outcomes (decision_id, ts, kind, value, event_key) VALUES (?, ?, ?, ?, ?)",
    );
    db.exec("BEGIN");
    for (const d of decisions) {
      insertDecision.run(
        d.id,
        d.ts,
        d.visitorHash,
        d.policyVersion,
        d.featureSpecHash,
        d.context,
        d.features,
        d.stateKey,
        d.eligible,
        d.action,
        d.propensity,
        d.explored ? 1 : 0,
        d.experimentId ?? null,
        d.arm ?? null,
        d.shadow ?? null,
      );
    }
    for (const o of outcomes) insertOutcome.run(o.decisionId, o.ts, o.kind, o.value, o.eventKey);
    db.exec("COMMIT");
    db.exec("VACUUM");
    const d1PerDecision = (sqliteBytes(db) - empty) / decisions.length;
    db.close();

    let archiveBytes = 0;
    for (const day of partitionByDay(decisions).values()) archiveBytes += decisionsParquet(day).byteLength;
    for (const day of partitionByDay(outcomes).values()) archiveBytes += outcomesParquet(day).byteLength;
    const archivePerDecision = archiveBytes / decisions.length;
    const days = D1_LIMIT_BYTES / (VIEWS_PER_DAY * d1PerDecision);
    const common = { decisions: decisions.length, outcomes: outcomes.length };
    return [
      {
        metric: "log_row_bytes",
        tier: "d1",
        value: round(d1PerDecision),
        unit: "bytes/decision",
        ...common,
        note: `D1 (SQLite with the migrations, indexes included, after VACUUM): ${round(d1PerDecision)} bytes per decision with its ${round(outcomes.length / decisions.length)} outcomes`,
      },
      {
        metric: "log_row_bytes",
        tier: "archive",
        value: round(archivePerDecision),
        unit: "bytes/decision",
        ...common,
        note: `the Parquet archive (snappy, a part per table and day): ${round(archivePerDecision)} bytes per decision, ${round(d1PerDecision / archivePerDecision)}× smaller than D1`,
      },
      {
        metric: "d1_days_at_10m_views",
        value: round(days),
        unit: "days",
        note: `10 GB / (10,000,000 decisions/day × ${round(d1PerDecision)} bytes): D1 holds ${round(days)} days of a shop with 10M page views a day`,
      },
    ];
  },
};
