/** Output of the bench: one JSON object per line, or a table for humans. */
import type { Metric } from "./types.ts";

/** `{"metric","value","unit",...extra}`; the human-only `note` is kept, since it says how the figure was made. */
export function jsonLine(metric: Metric): string {
  const { metric: name, value, unit, ...extra } = metric;
  return JSON.stringify({ metric: name, value: Number.isFinite(value) ? value : null, unit, ...extra });
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

export function formatTable(metrics: readonly Metric[], failures: readonly { name: string; error: string }[]): string {
  const rows = metrics.map((m) => [
    m.metric,
    formatValue(m.value),
    m.unit,
    m.target ?? "",
    m.met === undefined ? "" : m.met ? "yes" : "NO",
  ]);
  const header = ["metric", "value", "unit", "target", "met"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];

  const notes = metrics.filter((m) => typeof m.note === "string");
  if (notes.length > 0) {
    out.push("", "notes:");
    for (const m of notes) out.push(`  ${m.metric}: ${m.note as string}`);
  }
  if (failures.length > 0) {
    out.push("", "failed measurements:");
    for (const f of failures) out.push(`  ${f.name}: ${f.error}`);
  }
  const unmet = metrics.filter((m) => m.met === false).map((m) => m.metric);
  if (unmet.length > 0) out.push("", `targets not met: ${unmet.join(", ")}`);
  else if (failures.length === 0) out.push("", "all targets met");
  return out.join("\n");
}
