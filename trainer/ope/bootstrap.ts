import { createRng } from "../../shared/rng.ts";
import type { Resamplable } from "./estimate.ts";

export interface BootstrapOptions {
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Number of bootstrap resamples. */
  replicates: number;
  seed: number;
}

export interface Interval {
  lower: number;
  upper: number;
}

/**
 * Percentile bootstrap (Efron & Tibshirani 1993, §13.3): draw `replicates` samples of the units with
 * replacement, recompute the estimate on each, and take the (1−level)/2 and (1+level)/2 quantiles.
 * Ratio estimators are recomputed whole on every resample (numerator and denominator together),
 * so their normalisation follows the resample.
 *
 * The draws depend only on the seed and the unit count, so intervals computed with the same seed
 * over the same units (every policy evaluated on one dataset) use the same resamples: their
 * differences are paired rather than independent noise.
 *
 * A resample where the estimate is undefined (NaN: no unit the target could have taken) is left
 * out; when every one is, so is the interval.
 */
export function bootstrapInterval(sample: Resamplable, options: BootstrapOptions): Interval {
  return bootstrapIntervals([sample], options)[0]!;
}

/**
 * {@link bootstrapInterval} of several estimates over the same units at once: each resample is drawn
 * once and every estimate recomputed on it, which gives the same intervals as one call per estimate
 * at a fraction of the cost, since drawing dominates recomputing.
 */
export function bootstrapIntervals(samples: readonly Resamplable[], options: BootstrapOptions): Interval[] {
  const { level, replicates, seed } = options;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  if (!(Number.isInteger(replicates) && replicates > 0))
    throw new RangeError(`replicates must be a positive integer, got ${replicates}`);
  const first = samples[0];
  if (!first) return [];
  if (samples.some((s) => s.unit !== first.unit || s.unitCount !== first.unitCount)) {
    throw new RangeError("estimates bootstrapped together must share their resampling units");
  }

  const rng = createRng(seed);
  const n = first.unitCount;
  const counts = new Uint32Array(n);
  const statistics = samples.map(() => [] as number[]);
  for (let b = 0; b < replicates; b++) {
    counts.fill(0);
    // Drawn inline rather than through randomIndex: this loop runs replicates × units times.
    for (let i = 0; i < n; i++) counts[Math.floor(rng() * n)]! += 1;
    samples.forEach((sample, k) => {
      const statistic = sample.statistic(counts);
      if (!Number.isNaN(statistic)) statistics[k]!.push(statistic);
    });
  }
  return statistics.map((values) => {
    if (values.length === 0) return { lower: Number.NaN, upper: Number.NaN };
    const sorted = Float64Array.from(values).sort();
    return { lower: quantile(sorted, (1 - level) / 2), upper: quantile(sorted, (1 + level) / 2) };
  });
}

/** The p-quantile of ascending `sorted`, interpolating linearly between order statistics (Hyndman & Fan type 7). */
export function quantile(sorted: Float64Array, p: number): number {
  const position = p * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
}
