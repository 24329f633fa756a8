import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import type { TrajectoryStream } from "../data/build-dataset.ts";
import type { LogMeta } from "../data/log-meta.ts";

export interface LogTotals {
  decisions: number;
  outcomes: number;
}

/** Lines of a file that could not be read, by reason: how many, and where the first ones are. */
export type RejectedLines = Record<string, { count: number; lines: number[] }>;

/**
 * Where logged decisions and outcomes come from: local D1, remote D1, or a JSONL file. Rows come in
 * pages, oldest first, so that a large log never has to fit in one response.
 */
export interface LogSource {
  /** For messages: "local D1 (.wrangler/state)", "file logs.jsonl". */
  readonly description: string;
  /** How to read the rows, when the source says (a JSONL meta line); undefined means edge logs. */
  meta(): Promise<LogMeta | undefined>;
  decisions(): AsyncIterable<DecisionRow[]>;
  outcomes(): AsyncIterable<OutcomeRow[]>;
  /**
   * Decisions in trajectory order with their outcomes, where the source can sort and join out of
   * memory (the archive, through DuckDB): the dataset is then built without holding the raw rows.
   */
  trajectories?(): TrajectoryStream;
  /** Row counts, where the source can tell them cheaply (for progress and ETA). */
  total?(): Promise<LogTotals>;
  /** What could not be read so far; complete once both tables were read. Empty for a database. */
  rejected(): RejectedLines;
  close(): Promise<void>;
}

/** How many rows each page holds unless the caller says otherwise. */
export const DEFAULT_PAGE_SIZE = 1000;
