import type { ArmFigures, Estimate } from "../../shared/experiment-stats.ts";
import { fixedInterval } from "../../shared/experiment-stats.ts";
import type { ExperimentReport } from "../../shared/experiment-verdict.ts";

const signed = (x: number, digits: number) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}`;
const withInterval = (e: Estimate, digits: number) => {
  const { lo, hi } = fixedInterval(e);
  return `${e.mean.toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}]`;
};

const COLUMNS: [string, (f: ArmFigures) => string][] = [
  ["visitors", (f) => String(f.visitors)],
  ["decisions", (f) => String(f.decisions)],
  ["click rate", (f) => withInterval(f.clickRate, 4)],
  ["conversion rate", (f) => withInterval(f.conversionRate, 4)],
  ["revenue/visitor", (f) => withInterval(f.revenuePerVisitor, 2)],
  ["margin/visitor", (f) => withInterval(f.marginPerVisitor, 2)],
  ["promotion cost/visitor", (f) => withInterval(f.promotionCostPerVisitor, 2)],
  ["value/visitor", (f) => withInterval(f.valuePerVisitor, 3)],
];

/** The report as text: a table per arm (95% intervals at the visitor level), then each comparison and the verdict. */
export function formatExperimentReport(report: ExperimentReport): string {
  const names = Object.keys(report.arms);
  const cells = [
    ["arm", ...COLUMNS.map(([h]) => h)],
    ...names.map((n) => [n, ...COLUMNS.map(([, f]) => f(report.arms[n]!))]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const table = cells.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
  const { sampleRatio } = report;
  const lines = [
    `experiment ${report.experimentId}: baseline ${report.control}; sample ratio χ² ${sampleRatio.chiSquare.toFixed(2)} (${sampleRatio.degreesOfFreedom} df): ${sampleRatio.mismatch ? "MISMATCH" : "ok"}`,
    ...table,
  ];
  for (const c of report.comparisons) {
    const interval = (x: { mean: number; lo: number; hi: number }, digits: number) =>
      `${signed(x.mean, digits)} [${signed(x.lo, digits)}, ${signed(x.hi, digits)}]`;
    lines.push(
      `${c.arm} − ${report.control} (always-valid 95%): value/visitor ${interval(c.value, 3)}, mSPRT p ${c.pValue.toFixed(3)}; ` +
        `promotion cost/visitor ${interval(c.promotionCost, 2)}; conversion rate ${interval(c.conversionRate, 4)}; ` +
        `ROI of promotion spend ${c.roi === null ? "n/a (no extra spend)" : c.roi.toFixed(2)}`,
    );
  }
  lines.push(`verdict: ${report.verdict.action}: ${report.verdict.reason}`);
  return lines.join("\n");
}

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/** Value per visitor by arm, with 95% intervals, as inline SVG: nothing loaded at view time. */
function valueChart(report: ExperimentReport): string {
  const names = Object.keys(report.arms);
  const bars = names.map((n) => ({
    name: n,
    ...report.arms[n]!.valuePerVisitor,
    ...fixedInterval(report.arms[n]!.valuePerVisitor),
  }));
  const finite = bars.flatMap((b) => [b.lo, b.hi, 0]).filter(Number.isFinite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const width = 560;
  const rowHeight = 36;
  const x = (v: number) => 140 + ((v - min) / (max - min || 1)) * (width - 180);
  const rows = bars.map((b, i) => {
    const y = 20 + i * rowHeight;
    return (
      `<text x="8" y="${y + 5}">${escape(b.name)}</text>` +
      `<line x1="${x(b.lo)}" x2="${x(b.hi)}" y1="${y}" y2="${y}" stroke="#333" stroke-width="2"/>` +
      `<circle cx="${x(b.mean)}" cy="${y}" r="5" fill="#2a6fdb"><title>${b.mean.toFixed(3)} [${b.lo.toFixed(3)}, ${b.hi.toFixed(3)}]</title></circle>`
    );
  });
  const height = 30 + names.length * rowHeight;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="value per visitor by arm">` +
    `<line x1="${x(0)}" x2="${x(0)}" y1="0" y2="${height}" stroke="#bbb" stroke-dasharray="4 3"/>` +
    rows.join("") +
    `</svg>`
  );
}

/** A self-contained HTML page of the report. */
export function experimentReportHtml(report: ExperimentReport, generatedAt: Date): string {
  const names = Object.keys(report.arms);
  const head = COLUMNS.map(([h]) => `<th>${escape(h)}</th>`).join("");
  const body = names
    .map(
      (n) =>
        `<tr><th>${escape(n)}</th>${COLUMNS.map(([, f]) => `<td>${escape(f(report.arms[n]!))}</td>`).join("")}</tr>`,
    )
    .join("");
  const comparisons = formatExperimentReport(report)
    .split("\n")
    .slice(1 + names.length + 1, -1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment ${escape(report.experimentId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}td{font-variant-numeric:tabular-nums}.verdict{font-weight:600}</style></head>
<body><h1>Experiment ${escape(report.experimentId)}</h1>
<p>Baseline: ${escape(report.control)}. Intervals are 95%, over visitors. Generated ${generatedAt.toISOString()}.</p>
<table><thead><tr><th>arm</th>${head}</tr></thead><tbody>${body}</tbody></table>
<h2>Value per visitor</h2>${valueChart(report)}
<h2>Against the baseline</h2><ul>${comparisons.map((c) => `<li>${escape(c)}</li>`).join("")}</ul>
<p>Sample ratio: χ² ${report.sampleRatio.chiSquare.toFixed(2)} (${report.sampleRatio.degreesOfFreedom} df), ${report.sampleRatio.mismatch ? "<strong>mismatch</strong>" : "ok"}.</p>
<p class="verdict">Verdict: ${escape(report.verdict.action)}: ${escape(report.verdict.reason)}</p>
</body></html>
`;
}
