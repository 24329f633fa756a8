/** A number for people: 4 significant digits, no exponent for everyday magnitudes, "n/a" when undefined. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

/** A share in [0, 1] as a percentage. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "n/a";
}
