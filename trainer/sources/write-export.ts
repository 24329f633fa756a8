import type { LogMessage } from "../../shared/schema.ts";
import { writeJsonl } from "../runtime/jsonl.ts";
import { withProgress, type ProgressSink } from "../runtime/progress.ts";
import type { LogSource, LogTotals } from "./log-source.ts";

/**
 * Writes a source's logs as JSONL, the format every source can read back: the source's meta line
 * first when it has one, then each decision, then each outcome, as {@link LogMessage}s. The file
 * appears under `path` only once complete.
 */
export async function exportLogs(source: LogSource, path: string, progress: ProgressSink = {}): Promise<LogTotals> {
  const meta = await source.meta();
  const totals = await source.total?.();
  return writeJsonl(path, async (writer) => {
    if (meta) await writer.write([meta]);
    const written: LogTotals = { decisions: 0, outcomes: 0 };
    for await (const page of withProgress(source.decisions(), {
      ...progress,
      label: "exporting decisions",
      total: totals?.decisions,
    })) {
      await writer.write(page.map((row): LogMessage => ({ type: "decision", row })));
      written.decisions += page.length;
    }
    for await (const page of withProgress(source.outcomes(), {
      ...progress,
      label: "exporting outcomes",
      total: totals?.outcomes,
    })) {
      await writer.write(page.map((row): LogMessage => ({ type: "outcome", row })));
      written.outcomes += page.length;
    }
    return written;
  });
}
