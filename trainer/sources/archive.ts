import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { z } from "zod";
import { ARCHIVE_TABLES, archivePrefix } from "../../shared/archive.ts";
import { openLocalBindings } from "../runtime/local-bindings.ts";
import { archiveDays, decisionSchema, outcomeSchema, sqlString } from "./archive-rows.ts";
import { archiveTrajectories } from "./archive-trajectories.ts";
import type { LogSource } from "./log-source.ts";

/** Where archive parts are fetched from: the local R2 through the platform proxy, or a bucket's S3 API. */
export interface ArchiveStore {
  description: string;
  keys(prefix: string): AsyncIterable<string>;
  get(key: string): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/** The R2 bucket `wrangler dev` persists, through wrangler's platform proxy. */
export async function localArchiveStore(persistTo?: string): Promise<ArchiveStore> {
  const bindings = await openLocalBindings(persistTo === undefined ? {} : { persistTo });
  return {
    description: `the local archive (${persistTo ?? ".wrangler/state"})`,
    async *keys(prefix) {
      let cursor: string | undefined;
      do {
        const page = await bindings.ARCHIVE.list({ prefix, ...(cursor ? { cursor } : {}) });
        for (const object of page.objects) yield object.key;
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
    },
    async get(key) {
      const body = await bindings.ARCHIVE.get(key);
      return body === null ? null : new Uint8Array(await body.arrayBuffer());
    },
    close: () => bindings.dispose(),
  };
}

/**
 * The Parquet archive as a log source, read by DuckDB (its Parquet reader is built in: no extension
 * to download). The parts are copied from `store` to a temporary directory first, then read by
 * {@link archiveDirectorySource}.
 */
export async function openArchiveSource(
  store: ArchiveStore,
  options: { memoryLimit?: string } = {},
): Promise<LogSource> {
  const dir = await mkdtemp(path.join(tmpdir(), "edge-promo-archive-"));
  try {
    for (const table of ARCHIVE_TABLES) {
      for await (const key of store.keys(archivePrefix(table))) {
        const body = await store.get(key);
        if (body === null) continue;
        const file = path.join(dir, key);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, body);
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    await store.close();
  }
  const source = await archiveDirectorySource(dir, { description: store.description, ...options });
  return {
    ...source,
    async close() {
      await source.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * An archive laid out as shared/archive.ts says, in a local directory, read by DuckDB (spilling to
 * disk past `memoryLimit`), one row per key (a row may sit in two parts). Its rows come one day's
 * partition at a time, ordered as the D1 sources order them; its trajectories one range of visitors
 * at a time (archive-trajectories.ts). Either way a chunk at a time, in memory that does not grow
 * with the archive.
 */
export async function archiveDirectorySource(
  dir: string,
  options: { description?: string; memoryLimit?: string; visitorRangeRows?: number } = {},
): Promise<LogSource> {
  const spill = await mkdtemp(path.join(tmpdir(), "edge-promo-duckdb-"));
  const instance = await DuckDBInstance.create(":memory:", {
    temp_directory: spill,
    memory_limit: options.memoryLimit ?? "1GB",
    // One thread: each thread holds its own buffers, which the memory limit does not bound.
    threads: "1",
    preserve_insertion_order: "false",
  });
  const connection = await instance.connect();
  // Day by day: a row's copies share its day (the partition is the day of its ts), so one row per
  // key within a day is one row per key overall, and days in order are rows in order. Memory then
  // grows with the largest day, not with the archive.
  async function* rowsOf<T>(table: "decisions" | "outcomes", key: string, order: string, schema: z.ZodType<T>) {
    for (const day of await archiveDays(dir, table)) {
      const glob = sqlString(path.join(dir, table, day, "*.parquet"));
      const result = await connection.stream(
        `SELECT * EXCLUDE (copy) FROM (
           SELECT *, row_number() OVER (PARTITION BY ${key}) AS copy FROM read_parquet(${glob}, hive_partitioning = false, union_by_name = true)
         ) WHERE copy = 1 ORDER BY ${order}`,
      );
      const columns = result.columnNames();
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        yield chunk.getRowObjects(columns).map((row) => schema.parse(row));
      }
    }
  }

  return {
    description: `${options.description ?? "the archive"} in ${dir}`,
    meta: async () => undefined,
    rejected: () => ({}),
    decisions: () => rowsOf("decisions", "id", "ts, id", decisionSchema),
    outcomes: () =>
      rowsOf("outcomes", "decision_id, kind, event_key", "ts, decision_id, kind, event_key", outcomeSchema),
    trajectories: () => archiveTrajectories(connection, dir, options.visitorRangeRows),
    async close() {
      connection.closeSync();
      instance.closeSync();
      await rm(spill, { recursive: true, force: true });
    },
  };
}
