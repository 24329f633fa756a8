import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { z } from "zod";
import { ARCHIVE_TABLES, archivePrefix } from "../../shared/archive.ts";
import { OUTCOME_KINDS, type DecisionRow, type OutcomeRow } from "../../shared/schema.ts";
import { openLocalBindings } from "../runtime/local-bindings.ts";
import type { LogSource } from "./log-source.ts";

const decisionSchema = z
  .object({
    id: z.string(),
    ts: z.bigint(),
    visitor_hash: z.string(),
    policy_version: z.string(),
    feature_spec_hash: z.string(),
    context: z.string(),
    features: z.string(),
    state_key: z.number(),
    eligible: z.string(),
    action: z.string(),
    propensity: z.number(),
    explored: z.boolean(),
    experiment_id: z.string().nullable(),
    arm: z.string().nullable(),
    shadow: z.string().nullable(),
  })
  .transform((r): DecisionRow => ({
    id: r.id,
    ts: Number(r.ts),
    visitorHash: r.visitor_hash,
    policyVersion: r.policy_version,
    featureSpecHash: r.feature_spec_hash,
    context: r.context,
    features: r.features,
    stateKey: r.state_key,
    eligible: r.eligible,
    action: r.action,
    propensity: r.propensity,
    explored: r.explored,
    experimentId: r.experiment_id,
    arm: r.arm,
    shadow: r.shadow,
  }));

const outcomeSchema = z
  .object({
    decision_id: z.string(),
    ts: z.bigint(),
    kind: z.enum(OUTCOME_KINDS),
    value: z.number(),
    event_key: z.string(),
  })
  .transform((r): OutcomeRow => ({
    decisionId: r.decision_id,
    ts: Number(r.ts),
    kind: r.kind,
    value: r.value,
    eventKey: r.event_key,
  }));

/**
 * The Parquet archive as a log source, read by DuckDB (its Parquet reader is built in: no extension
 * to download). The local archive (the R2 that `wrangler dev` persists, through the platform proxy)
 * is copied to a temporary directory first, part by part; DuckDB then scans the parts, takes one row
 * per key (a row may sit in two parts), orders them as the D1 sources do, and hands them over a
 * chunk at a time, spilling to disk past its memory limit.
 */
export async function openLocalArchiveSource(
  options: { persistTo?: string; memoryLimit?: string } = {},
): Promise<LogSource> {
  const dir = await mkdtemp(path.join(tmpdir(), "edge-promo-archive-"));
  const bindings = await openLocalBindings(options.persistTo === undefined ? {} : { persistTo: options.persistTo });
  const counts = { decisions: 0, outcomes: 0 };
  try {
    for (const table of ARCHIVE_TABLES) {
      await mkdir(path.join(dir, table), { recursive: true });
      let cursor: string | undefined;
      do {
        const page = await bindings.ARCHIVE.list({ prefix: archivePrefix(table), ...(cursor ? { cursor } : {}) });
        for (const object of page.objects) {
          const body = await bindings.ARCHIVE.get(object.key);
          if (body === null) continue;
          const file = path.join(dir, object.key);
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, new Uint8Array(await body.arrayBuffer()));
          counts[table]++;
        }
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
    }
  } finally {
    await bindings.dispose();
  }
  const instance = await DuckDBInstance.create(":memory:", {
    temp_directory: path.join(dir, "duckdb-spill"),
    memory_limit: options.memoryLimit ?? "1GB",
  });
  const connection = await instance.connect();

  async function* rowsOf<T>(table: "decisions" | "outcomes", key: string, order: string, schema: z.ZodType<T>) {
    if (counts[table] === 0) return;
    const glob = path.join(dir, table, "*", "*.parquet").replaceAll("'", "''");
    const result = await connection.stream(
      `SELECT * EXCLUDE (copy) FROM (
         SELECT *, row_number() OVER (PARTITION BY ${key}) AS copy FROM read_parquet('${glob}', hive_partitioning = false)
       ) WHERE copy = 1 ORDER BY ${order}`,
    );
    const columns = result.columnNames();
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) return;
      yield chunk.getRowObjects(columns).map((row) => schema.parse(row));
    }
  }

  return {
    description: `the local archive (${counts.decisions} decision parts, ${counts.outcomes} outcome parts)`,
    meta: async () => undefined,
    rejected: () => ({}),
    decisions: () => rowsOf("decisions", "id", "ts, id", decisionSchema),
    outcomes: () =>
      rowsOf("outcomes", "decision_id, kind, event_key", "ts, decision_id, kind, event_key", outcomeSchema),
    async close() {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
