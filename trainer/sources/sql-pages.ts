import { DrizzleQueryError, and, asc, count, gt, gte, or, sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import {
  decisionLogColumns,
  decisions,
  outcomeLogColumns,
  outcomes,
  type DecisionRow,
  type OutcomeRow,
} from "../../shared/schema.ts";
import type { LogSource } from "./log-source.ts";

/** Any asynchronous drizzle SQLite database: D1 through a binding, or D1 over HTTP. */
export type AsyncSqliteDatabase<TRunResult> = BaseSQLiteDatabase<"async", TRunResult>;

export interface SqlLogSourceOptions {
  description: string;
  pageSize: number;
  close(): Promise<void>;
}

/**
 * Reads the decisions and outcomes tables page by page, with keyset pagination on (ts, key):
 * each page starts after the last row of the previous one, so a page costs the same at row 10 and
 * at row 10 million (OFFSET would rescan), and rows inserted meanwhile are not read twice.
 * `ts >= ?` is stated on its own so that SQLite ranges over the ts index before filtering.
 */
export function sqlLogSource<TRunResult>(db: AsyncSqliteDatabase<TRunResult>, options: SqlLogSourceOptions): LogSource {
  const { pageSize } = options;
  return {
    description: options.description,
    meta: async () => undefined,
    rejected: () => ({}),
    close: options.close,

    async *decisions(): AsyncGenerator<DecisionRow[]> {
      let after: DecisionRow | undefined;
      for (;;) {
        const page: DecisionRow[] = await unwrapped(
          db
            .select(decisionLogColumns)
            .from(decisions)
            .where(
              after && and(gte(decisions.ts, after.ts), or(gt(decisions.ts, after.ts), gt(decisions.id, after.id))),
            )
            .orderBy(asc(decisions.ts), asc(decisions.id))
            .limit(pageSize),
        );
        if (page.length > 0) yield page;
        if (page.length < pageSize) return;
        after = page[page.length - 1];
      }
    },

    async *outcomes(): AsyncGenerator<OutcomeRow[]> {
      let after: OutcomeRow | undefined;
      for (;;) {
        const key = sql`(${outcomes.decisionId}, ${outcomes.kind}, ${outcomes.eventKey})`;
        const page: OutcomeRow[] = await unwrapped(
          db
            .select(outcomeLogColumns)
            .from(outcomes)
            .where(
              after &&
                and(
                  gte(outcomes.ts, after.ts),
                  or(gt(outcomes.ts, after.ts), sql`${key} > (${after.decisionId}, ${after.kind}, ${after.eventKey})`),
                ),
            )
            .orderBy(asc(outcomes.ts), asc(outcomes.decisionId), asc(outcomes.kind), asc(outcomes.eventKey))
            .limit(pageSize),
        );
        if (page.length > 0) yield page;
        if (page.length < pageSize) return;
        after = page[page.length - 1];
      }
    },

    async total() {
      const [decisionCount] = await unwrapped(db.select({ n: count() }).from(decisions));
      const [outcomeCount] = await unwrapped(db.select({ n: count() }).from(outcomes));
      return { decisions: decisionCount?.n ?? 0, outcomes: outcomeCount?.n ?? 0 };
    },
  };
}

/**
 * drizzle wraps driver errors in "Failed query: <sql>"; the driver's own error (an HTTP refusal, a
 * missing table) is what the operator can act on, so it is surfaced instead.
 */
async function unwrapped<T>(query: PromiseLike<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    throw error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  }
}
