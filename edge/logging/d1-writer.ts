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

function chunks<T>(rows: readonly T[], size: number): T[][] {
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
