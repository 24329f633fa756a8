/** Maps [domainMin, domainMax] linearly onto [rangeStart, rangeEnd] (a degenerate domain maps to the middle). */
export function linearScale(
  domainMin: number,
  domainMax: number,
  rangeStart: number,
  rangeEnd: number,
): (value: number) => number {
  const span = domainMax - domainMin;
  if (span === 0) return () => (rangeStart + rangeEnd) / 2;
  return (value) => rangeStart + ((value - domainMin) / span) * (rangeEnd - rangeStart);
}

/**
 * About `count` evenly spaced round tick values (steps of 1, 2 or 5 × 10ᵏ) covering [min, max],
 * and the domain widened to the outer ticks so that the data never touches the frame.
 */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; min: number; max: number } {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const first = Math.floor(min / step) * step;
  const last = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Rounding each tick to the step's precision keeps 0.30000000000000004 out of the labels.
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  for (let i = 0; first + i * step <= last + step / 2; i++) ticks.push(Number((first + i * step).toFixed(digits)));
  return { ticks, min: first, max: last };
}

/** The finite values' extent, or null when there are none. */
export function extent(values: Iterable<number>): { min: number; max: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return min <= max ? { min, max } : null;
}
