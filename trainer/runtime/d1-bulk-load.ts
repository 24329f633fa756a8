import type { D1Database, D1PreparedStatement } from "@cloudflare/workers-types";
import type { SQL } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { drizzle } from "drizzle-orm/d1";
import { decisions, outcomes, type DecisionRow, type OutcomeRow } from "../../shared/schema.ts";

/**
 * D1 refuses a statement longer than this many bytes of SQL
 * (https://developers.cloudflare.com/d1/platform/limits/).
 */
export const MAX_STATEMENT_BYTES = 100_000;

/** Rows one INSERT starts with; a statement that would pass {@link MAX_STATEMENT_BYTES} is halved. */
const ROWS_PER_STATEMENT = 50;
/** Statements per D1 batch: one transaction, and one round trip to the local runtime. */
const STATEMENTS_PER_BATCH = 50;

/**
 * Loads many log rows into D1 fast, for seeding history (the demo's simulated history): the values
 * are written into the SQL text as literals, escaped by drizzle from the same table definitions the
 * Worker's writer uses. The Worker's writer binds parameters instead, and D1 allows 100 bound
 * parameters a statement, i.e. 6 decision rows; inlined, a statement carries 50, and loading runs
 * about 7× faster. Decisions first, then outcomes; a row whose key is stored already is skipped,
 * as the Worker's writer does.
 */
export async function bulkLoadLogRows(
  database: D1Database,
  rows: { decisions: readonly DecisionRow[]; outcomes: readonly OutcomeRow[] },
): Promise<void> {
  const db = drizzle(database);
  const dialect = new SQLiteSyncDialect();
  const pending: D1PreparedStatement[] = [];
  const flush = async () => {
    if (pending.length > 0) await database.batch(pending.splice(0));
  };
  const load = async <Row>(all: readonly Row[], insert: (rows: Row[]) => SQL) => {
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
      for (const sql of inlineInserts(all.slice(i, i + ROWS_PER_STATEMENT), (chunk) =>
        dialect.sqlToQuery(insert(chunk).inlineParams()),
      )) {
        pending.push(database.prepare(sql));
        if (pending.length >= STATEMENTS_PER_BATCH) await flush();
      }
    }
  };
  await load(rows.decisions, (chunk) => db.insert(decisions).values(chunk).onConflictDoNothing().getSQL());
  await load(rows.outcomes, (chunk) => db.insert(outcomes).values(chunk).onConflictDoNothing().getSQL());
  await flush();
}

/** One INSERT for `rows`, or, where its SQL would be too long for D1, those of each half. */
function inlineInserts<Row>(rows: Row[], render: (rows: Row[]) => { sql: string }): string[] {
  const { sql } = render(rows);
  const bytes = Buffer.byteLength(sql);
  if (bytes <= MAX_STATEMENT_BYTES) return [sql];
  if (rows.length === 1) throw new RangeError(`one log row needs ${bytes} bytes of SQL, more than D1 allows`);
  const half = Math.ceil(rows.length / 2);
  return [...inlineInserts(rows.slice(0, half), render), ...inlineInserts(rows.slice(half), render)];
}
