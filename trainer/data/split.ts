import type { Dataset } from "./dataset.ts";

export interface TimeSplit {
  /** The earlier decisions, to learn from. */
  train: Dataset;
  /** The later decisions, to evaluate on: the candidate has not seen them, so its estimate is not fitted to their noise. */
  holdout: Dataset;
  /** First timestamp of the holdout. */
  boundary: number;
}

/**
 * Splits the steps by time: the last `fraction` of decisions (by timestamp) are held out. A time
 * split, rather than a random one, is the honest test of a policy that will serve the future.
 * States stay shared, so next-state links across the boundary remain valid.
 */
export function splitByTime(dataset: Dataset, fraction: number): TimeSplit {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`holdout fraction must be in (0, 1), got ${fraction}`);
  const times = dataset.steps.map((s) => s.ts).sort((a, b) => a - b);
  const boundary = times[Math.min(times.length - 1, Math.floor(times.length * (1 - fraction)))] ?? 0;
  const part = (keep: (ts: number) => boolean): Dataset => {
    const steps = dataset.steps.filter((s) => keep(s.ts));
    const from = steps.reduce((t, s) => Math.min(t, s.ts), Infinity);
    const to = steps.reduce((t, s) => Math.max(t, s.ts), -Infinity);
    return { ...dataset, steps, window: steps.length ? { from, to } : { from: 0, to: 0 } };
  };
  return { train: part((ts) => ts < boundary), holdout: part((ts) => ts >= boundary), boundary };
}
