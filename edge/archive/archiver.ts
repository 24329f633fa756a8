import type { D1Database, R2Bucket } from "@cloudflare/workers-types";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { archivePartKey, partitionByDay, type ArchiveTable } from "../../shared/archive.ts";
import { sha256Hex } from "../../shared/hash.ts";
import { decisionLogColumns, decisions, outcomeLogColumns, outcomes } from "../../shared/schema.ts";
import { chunks, MAX_BOUND_PARAMETERS } from "../logging/d1-writer.ts";
import { decisionsParquet, outcomesParquet } from "./parquet.ts";

/** Rows read from D1 per pass: a Parquet part per day among them. */
const ROWS_PER_PASS = 5_000;

export interface ArchiveRun {
  decisions: number;
  outcomes: number;
  parts: number;
  /** True when rows were left for the next run (the pass budget ran out). */
  more: boolean;
}

async function putPart(bucket: R2Bucket, table: ArchiveTable, day: string, keys: readonly string[], body: ArrayBuffer) {
  const partId = (await sha256Hex(new TextEncoder().encode(keys.join("\n")))).slice(0, 16);
  await bucket.put(archivePartKey(table, day, partId), body, {
    httpMetadata: { contentType: "application/vnd.apache.parquet" },
    customMetadata: { rows: String(keys.length) },
  });
}

/**
 * Copies rows D1 holds but the archive does not yet into R2, a Parquet part per table and day, and
 * only then flags them archived. A crash between the two leaves rows unflagged: the next run writes
 * the same part again (same rows, same name) and flags them then. Runs up to `maxPasses` passes
 * of ROWS_PER_PASS rows per table, oldest first.
 */
export async function archivePending(database: D1Database, bucket: R2Bucket, maxPasses = 20): Promise<ArchiveRun> {
  const db = drizzle(database);
  const run: ArchiveRun = { decisions: 0, outcomes: 0, parts: 0, more: false };
  for (let pass = 0; pass < maxPasses; pass++) {
    const pending = await db
      .select(decisionLogColumns)
      .from(decisions)
      .where(eq(decisions.archived, false))
      .orderBy(asc(decisions.ts))
      .limit(ROWS_PER_PASS);
    for (const [day, rows] of partitionByDay(pending)) {
      await putPart(
        bucket,
        "decisions",
        day,
        rows.map((r) => r.id),
        decisionsParquet(rows),
      );
      run.parts++;
    }
    for (const ids of chunks(
      pending.map((r) => r.id),
      MAX_BOUND_PARAMETERS - 1,
    )) {
      await db.update(decisions).set({ archived: true }).where(inArray(decisions.id, ids));
    }
    run.decisions += pending.length;

    const pendingOutcomes = await db
      .select({ rowid: sql<number>`rowid`, ...outcomeLogColumns })
      .from(outcomes)
      .where(eq(outcomes.archived, false))
      .orderBy(asc(outcomes.ts))
      .limit(ROWS_PER_PASS);
    for (const [day, rows] of partitionByDay(pendingOutcomes)) {
      const keys = rows.map((r) => `${r.decisionId}\u0000${r.kind}\u0000${r.eventKey}`);
      await putPart(bucket, "outcomes", day, keys, outcomesParquet(rows));
      run.parts++;
    }
    for (const rowids of chunks(
      pendingOutcomes.map((r) => r.rowid),
      MAX_BOUND_PARAMETERS - 1,
    )) {
      await db
        .update(outcomes)
        .set({ archived: true })
        .where(inArray(sql`rowid`, rowids));
    }
    run.outcomes += pendingOutcomes.length;

    if (pending.length < ROWS_PER_PASS && pendingOutcomes.length < ROWS_PER_PASS) return run;
  }
  run.more = true;
  return run;
}

/**
 * Where the retention window starts: `retentionMs` before now, or before the latest logged decision
 * when that is earlier. Logs that stopped (a paused shop, or a simulated clock far in the past) keep
 * their last window in D1 instead of being emptied out.
 */
export async function retentionCutoff(database: D1Database, now: number, retentionMs: number): Promise<number> {
  const latest = await database.prepare("SELECT MAX(ts) AS ts FROM decisions").first<{ ts: number | null }>();
  return Math.min(now, latest?.ts ?? now) - retentionMs;
}

/**
 * Deletes from D1 the rows older than `cutoff` (ms) that the archive holds. An unarchived row is
 * never deleted, whatever its age: it stays until the archiver has copied it.
 */
export async function deleteArchivedBefore(
  database: D1Database,
  cutoff: number,
): Promise<{ decisions: number; outcomes: number }> {
  const [outcomeResult, decisionResult] = await database.batch([
    database.prepare("DELETE FROM outcomes WHERE archived = 1 AND ts < ?").bind(cutoff),
    database.prepare("DELETE FROM decisions WHERE archived = 1 AND ts < ?").bind(cutoff),
  ]);
  return { decisions: decisionResult!.meta.changes, outcomes: outcomeResult!.meta.changes };
}
