import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { readLines } from "../runtime/jsonl.ts";
import type { LogMeta } from "../data/log-meta.ts";
import { parseLogLine, type LineTable, type ParsedLine } from "./log-lines.ts";
import { DEFAULT_PAGE_SIZE, type LogSource, type RejectedLines } from "./log-source.ts";

/** Line numbers kept per reason: enough to find the problem, bounded for a file that is all wrong. */
const LINES_KEPT_PER_REASON = 20;

type ParsedRowLine = Extract<ParsedLine, { kind: "decision" | "outcome" }>;

export interface FileSourceOptions {
  pageSize?: number;
}

/**
 * A JSONL log file (`promo export`, `promo import`). Decisions and outcomes are each read by their
 * own pass over the file, so neither has to be held in memory for the other. A line that cannot be
 * read is counted, with its line number, by the pass its table belongs to: each bad line is
 * reported once, and nothing is dropped silently.
 */
export function fileSource(path: string, options: FileSourceOptions = {}): LogSource {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const rejectedBy: Record<LineTable, RejectedLines> = { decisions: {}, outcomes: {} };
  let meta: Promise<LogMeta | undefined> | undefined;

  /** Rows of both tables; meta and rejected lines are dealt with here, on behalf of `table`'s pass. */
  async function* scan(table: LineTable): AsyncGenerator<ParsedRowLine> {
    const rejected: RejectedLines = {};
    rejectedBy[table] = rejected;
    let firstContentLine = true;
    for await (const { number, text } of readLines(path)) {
      if (text.trim() === "") continue;
      const parsed = parseLogLine(text);
      const isFirst = firstContentLine;
      firstContentLine = false;
      if (parsed.kind === "meta" || parsed.kind === "invalid-meta") {
        if (isFirst && parsed.kind === "invalid-meta")
          throw new Error(`${path}:${number}: invalid meta line: ${parsed.detail}`);
        // The opening meta line is read by meta(); a later one is misplaced, valid or not.
        if (!isFirst && table === "decisions") reject(rejected, "misplaced-meta", number);
      } else if (parsed.kind === "rejected") {
        if (parsed.table === table) reject(rejected, parsed.reason, number);
      } else {
        yield parsed;
      }
    }
  }

  async function* decisionRows(): AsyncGenerator<DecisionRow> {
    for await (const line of scan("decisions")) if (line.kind === "decision") yield line.row;
  }
  async function* outcomeRows(): AsyncGenerator<OutcomeRow> {
    for await (const line of scan("outcomes")) if (line.kind === "outcome") yield line.row;
  }

  return {
    description: `file ${path}`,
    meta() {
      meta ??= readMeta(path);
      return meta;
    },
    decisions: () => pages(decisionRows(), pageSize),
    outcomes: () => pages(outcomeRows(), pageSize),
    rejected: () => mergeRejected(rejectedBy.decisions, rejectedBy.outcomes),
    close: async () => {},
  };
}

async function* pages<T>(rows: AsyncIterable<T>, pageSize: number): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const row of rows) {
    page.push(row);
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** The meta line, when the file's first non-blank line is one. */
async function readMeta(path: string): Promise<LogMeta | undefined> {
  for await (const { number, text } of readLines(path)) {
    if (text.trim() === "") continue;
    const parsed = parseLogLine(text);
    if (parsed.kind === "invalid-meta") throw new Error(`${path}:${number}: invalid meta line: ${parsed.detail}`);
    return parsed.kind === "meta" ? parsed.meta : undefined;
  }
  return undefined;
}

function reject(rejected: RejectedLines, reason: string, line: number): void {
  const entry = (rejected[reason] ??= { count: 0, lines: [] });
  entry.count++;
  if (entry.lines.length < LINES_KEPT_PER_REASON) entry.lines.push(line);
}

function mergeRejected(a: RejectedLines, b: RejectedLines): RejectedLines {
  const merged: RejectedLines = structuredClone(a);
  for (const [reason, { count, lines }] of Object.entries(b)) {
    const entry = (merged[reason] ??= { count: 0, lines: [] });
    entry.count += count;
    entry.lines = [...entry.lines, ...lines].sort((x, y) => x - y).slice(0, LINES_KEPT_PER_REASON);
  }
  return merged;
}
