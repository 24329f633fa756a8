import type { DecisionRow, OutcomeRow } from "../../../shared/schema.ts";
import type { LogMeta } from "../../../trainer/data/log-meta.ts";
import type { LogSource } from "../../../trainer/sources/log-source.ts";

/** A LogSource over arrays, paged like the real ones. */
export function memorySource(
  decisions: DecisionRow[],
  outcomes: OutcomeRow[],
  meta?: LogMeta,
  pageSize = 3,
): LogSource {
  async function* pages<T>(rows: T[]): AsyncGenerator<T[]> {
    for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize);
  }
  return {
    description: "memory",
    meta: async () => meta,
    decisions: () => pages(decisions),
    outcomes: () => pages(outcomes),
    total: async () => ({ decisions: decisions.length, outcomes: outcomes.length }),
    rejected: () => ({}),
    close: async () => {},
  };
}
