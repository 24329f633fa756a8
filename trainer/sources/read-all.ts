import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import type { LogMeta } from "../data/log-meta.ts";
import { withProgress, type ProgressSink } from "../runtime/progress.ts";
import type { LogSource, RejectedLines } from "./log-source.ts";

/** A source's whole content, ready for the dataset builder. */
export interface LoadedLogs {
  meta: LogMeta | undefined;
  decisions: DecisionRow[];
  outcomes: OutcomeRow[];
  /** Lines a file source could not read; report them next to the dataset's skips. */
  rejected: RejectedLines;
}

/** Reads every decision and outcome, showing progress (rows/s, and an ETA when the source knows its size). */
export async function readAllLogs(source: LogSource, progress: ProgressSink = {}): Promise<LoadedLogs> {
  const meta = await source.meta();
  const totals = await source.total?.();
  const decisions: DecisionRow[] = [];
  for await (const page of withProgress(source.decisions(), {
    ...progress,
    label: "reading decisions",
    total: totals?.decisions,
  })) {
    for (const row of page) decisions.push(row);
  }
  const outcomes: OutcomeRow[] = [];
  for await (const page of withProgress(source.outcomes(), {
    ...progress,
    label: "reading outcomes",
    total: totals?.outcomes,
  })) {
    for (const row of page) outcomes.push(row);
  }
  return { meta, decisions, outcomes, rejected: source.rejected() };
}
