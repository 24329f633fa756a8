/**
 * The log archive's layout in R2, the contract between the Worker that writes it and anyone who
 * reads it (the trainer, DuckDB, Spark, Trino): Apache Parquet, Hive-style partitions by UTC day,
 * columns named as in D1.
 *
 *   decisions/day=YYYY-MM-DD/part-<sha256 of the rows' keys, 16 hex>.parquet
 *   outcomes/day=YYYY-MM-DD/part-<...>.parquet
 *
 * A part's name is a hash of the keys of the rows it holds, so archiving the same rows again writes
 * the same object: re-running a crashed archiver overwrites instead of duplicating. A row can still
 * land in two parts (archived in one run, then again if its flag was lost), so readers take one row
 * per key: `id` for decisions, (`decision_id`, `kind`, `event_key`) for outcomes.
 */
export const ARCHIVE_TABLES = ["decisions", "outcomes"] as const;
export type ArchiveTable = (typeof ARCHIVE_TABLES)[number];

const DAY_MS = 86_400_000;

/** The UTC day of `ts` (ms), as the partition names it. */
export function archiveDay(ts: number): string {
  return new Date(Math.floor(ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Rows grouped by their UTC day, the archive's partition, in order of first appearance. */
export function partitionByDay<T extends { ts: number }>(rows: readonly T[]): Map<string, T[]> {
  const days = new Map<string, T[]>();
  for (const row of rows) {
    const day = archiveDay(row.ts);
    const list = days.get(day);
    if (list) list.push(row);
    else days.set(day, [row]);
  }
  return days;
}

export function archivePartKey(table: ArchiveTable, day: string, partId: string): string {
  return `${table}/day=${day}/part-${partId}.parquet`;
}

/** The prefix under which every part of `table` lies. */
export function archivePrefix(table: ArchiveTable): string {
  return `${table}/`;
}
