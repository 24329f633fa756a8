import type { D1Database } from "@cloudflare/workers-types";
import { getTableColumns, type Table } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { decisions, outcomes, type DecisionRow, type LogMessage, type OutcomeRow } from "../../shared/schema.ts";

/** D1 refuses a statement with more bound parameters than this. */
export const MAX_BOUND_PARAMETERS = 100;

/** Rows per INSERT so that one statement stays within {@link MAX_BOUND_PARAMETERS}: one parameter per column per row. */
function rowsPerInsert(table: Table): number {
  return Math.floor(MAX_BOUND_PARAMETERS / Object.keys(getTableColumns(table)).length);
}

const DECISIONS_PER_INSERT = rowsPerInsert(decisions);
const OUTCOMES_PER_INSERT = rowsPerInsert(outcomes);

/** `rows` in slices of at most `size`: how statements stay within D1's bound-parameter limit. */
export function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * Writes decisions and outcomes in one D1 batch (one transaction). Inserts ignore rows whose key is
 * already stored, which makes the write idempotent: the queue delivers at least once, and a retried
 * outcome report carries the same (decision, kind, event key).
 */
export async function writeLogMessages(database: D1Database, messages: readonly LogMessage[]): Promise<void> {
  const db = drizzle(database);
  const decisionRows: DecisionRow[] = [];
  const outcomeRows: OutcomeRow[] = [];
  for (const message of messages) {
    if (message.type === "decision") decisionRows.push(message.row);
    else outcomeRows.push(message.row);
  }
  const statements = [
    ...chunks(decisionRows, DECISIONS_PER_INSERT).map((rows) =>
      db.insert(decisions).values(rows).onConflictDoNothing(),
    ),
    ...chunks(outcomeRows, OUTCOMES_PER_INSERT).map((rows) => db.insert(outcomes).values(rows).onConflictDoNothing()),
  ];
  const [first, ...rest] = statements;
  if (first === undefined) return;
  await db.batch([first, ...rest]);
}

/** Runs `sql` over `ids` in chunks that stay within D1's bound-parameter limit; `sql` gets the placeholder list. */
export async function selectByDecisionIds<Row>(
  db: D1Database,
  ids: readonly string[],
  sql: (placeholders: string) => string,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const chunk of chunks(ids, MAX_BOUND_PARAMETERS)) {
    const { results } = await db
      .prepare(sql(chunk.map(() => "?").join(",")))
      .bind(...chunk)
      .all<Row>();
    rows.push(...results);
  }
  return rows;
}

/** Which of `ids` name a decision D1 holds. */
export async function storedDecisionIds(db: D1Database, ids: readonly string[]): Promise<Set<string>> {
  const rows = await selectByDecisionIds<{ id: string }>(
    db,
    ids,
    (list) => `SELECT id FROM decisions WHERE id IN (${list})`,
  );
  return new Set(rows.map((row) => row.id));
}

/** The messages with every decision before every outcome: an outcome is written only after its decision. */
export function decisionsFirst<M extends { body: LogMessage }>(messages: readonly M[]): M[] {
  return [...messages].sort((a, b) => Number(a.body.type === "outcome") - Number(b.body.type === "outcome"));
}
