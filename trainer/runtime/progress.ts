/**
 * Progress of long reads and writes, on stderr, so that stdout stays the command's answer.
 * Lines are throttled: a fast read prints nothing, a slow one a line every few seconds.
 */

export interface ProgressOptions {
  /** What is being counted, e.g. "reading decisions". */
  label: string;
  /** Rows expected, when the source knows: enables the percentage and the ETA. */
  total?: number;
  /** No output at all (the CLI's --quiet and --json). */
  quiet?: boolean;
  /** Where lines go; stderr by default. The CLI passes its own `log`. */
  log?: (line: string) => void;
  /** Least time between two lines. */
  intervalMs?: number;
  /** Milliseconds clock; injectable for tests. */
  clock?: () => number;
}

/** Whether and where a long operation reports progress (the CLI's --quiet, and its log). */
export type ProgressSink = Pick<ProgressOptions, "quiet" | "log">;

export interface Progress {
  add(rows: number): void;
  /** Final line with the rate, printed only when progress lines were printed before. */
  done(): void;
}

export interface ProgressSnapshot {
  label: string;
  rows: number;
  total?: number;
  elapsedMs: number;
}

const DEFAULT_INTERVAL_MS = 2_000;
const SILENT: Progress = { add: () => {}, done: () => {} };

export function startProgress(options: ProgressOptions): Progress {
  if (options.quiet) return SILENT;
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const started = clock();
  let lastLine = started;
  let printed = false;
  let rows = 0;
  const snapshot = (): ProgressSnapshot => ({
    label: options.label,
    rows,
    total: options.total,
    elapsedMs: clock() - started,
  });
  return {
    add(n) {
      rows += n;
      const now = clock();
      if (now - lastLine < interval) return;
      lastLine = now;
      printed = true;
      log(formatProgress(snapshot()));
    },
    done() {
      if (printed) log(formatDone(snapshot()));
    },
  };
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function formatProgress({ label, rows, total, elapsedMs }: ProgressSnapshot): string {
  const rate = ratePerSecond(rows, elapsedMs);
  const parts = [`${label}: ${integer.format(rows)}${total !== undefined ? ` of ${integer.format(total)}` : ""} rows`];
  if (total !== undefined && total > 0) parts[0] += ` (${Math.min(100, Math.floor((100 * rows) / total))}%)`;
  parts.push(`${integer.format(rate)} rows/s`);
  if (total !== undefined && rate > 0 && rows < total)
    parts.push(`about ${formatDuration(((total - rows) / rate) * 1000)} left`);
  return parts.join(", ");
}

function formatDone({ label, rows, elapsedMs }: ProgressSnapshot): string {
  return `${label}: ${integer.format(rows)} rows in ${formatDuration(elapsedMs)} (${integer.format(ratePerSecond(rows, elapsedMs))} rows/s)`;
}

function ratePerSecond(rows: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (rows * 1000) / elapsedMs : 0;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Passes pages through, counting their rows as progress; the final line comes when they end. */
export async function* withProgress<T>(
  pages: AsyncIterable<readonly T[]>,
  options: ProgressOptions,
): AsyncGenerator<readonly T[]> {
  const progress = startProgress(options);
  for await (const page of pages) {
    progress.add(page.length);
    yield page;
  }
  progress.done();
}
