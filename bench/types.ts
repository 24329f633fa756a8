/**
 * The contract between the bench runner and its measurements. A measurement is a module that exports
 * one {@link Measurement}; the runner (bench/registry.ts) lists them, runs the selected ones in order,
 * and prints what they return. Measurements never decide how results are shown.
 */

/** One measured figure. Extra keys (n, backend, concurrency, ...) travel into the JSON line as they are. */
export interface Metric {
  /** snake_case, stable: scripts and CI key on it (e.g. "decide_cpu_p50_us"). */
  metric: string;
  value: number;
  /** "us", "ms", "req/s", "ratio", "rows", "transitions/s", ... */
  unit: string;
  /** Human-readable target, e.g. "<= 20". Absent when the figure is only reported. */
  target?: string;
  /** Whether the target was met in this run. Absent when there is no target. */
  met?: boolean;
  /** A short note printed under the table (method, caveats). */
  note?: string;
  [extra: string]: unknown;
}

export interface BenchOptions {
  /** Shorter durations and fewer iterations, for smoke runs. Figures are noisier; targets still apply. */
  quick: boolean;
  /** Progress for humans; always goes to stderr, so that stdout stays a table or JSON lines. */
  log(message: string): void;
}

export interface Measurement {
  /** kebab-case name used by `--only`. */
  name: string;
  /** One line for `--help`. */
  description: string;
  run(options: BenchOptions): Promise<Metric[]>;
}

export type Comparison = "<=" | ">=" | "==";

/** Attaches a target to a metric and evaluates it. */
export function withTarget(metric: Metric, op: Comparison, threshold: number): Metric {
  const { value } = metric;
  const met = op === "<=" ? value <= threshold : op === ">=" ? value >= threshold : value === threshold;
  return { ...metric, target: `${op} ${threshold}`, met: Number.isFinite(value) && met };
}
