import { ARM_COLUMNS, comparisonLine, escapeHtml, experimentSectionHtml } from "../../shared/experiment-html.ts";
import type { ExperimentReport } from "../../shared/experiment-verdict.ts";

/** The report as text: a table per arm (95% intervals at the visitor level), then each comparison and the verdict. */
export function formatExperimentReport(report: ExperimentReport): string {
  const names = Object.keys(report.arms);
  const cells = [
    ["arm", ...ARM_COLUMNS.map(([h]) => h)],
    ...names.map((n) => [n, ...ARM_COLUMNS.map(([, cell]) => cell(report.arms[n]!))]),
  ];
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const table = cells.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join("  ")
      .trimEnd(),
  );
  const { sampleRatio } = report;
  return [
    `experiment ${report.experimentId}: baseline ${report.control}; sample ratio χ² ${sampleRatio.chiSquare.toFixed(2)} (${sampleRatio.degreesOfFreedom} df): ${sampleRatio.mismatch ? "MISMATCH" : "ok"}`,
    ...table,
    ...report.comparisons.map((c) => comparisonLine(c, report.control)),
    `verdict: ${report.verdict.action}: ${report.verdict.reason}`,
  ].join("\n");
}

/** A self-contained HTML page of the report. */
export function experimentReportHtml(report: ExperimentReport, generatedAt: Date): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment ${escapeHtml(report.experimentId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}td{font-variant-numeric:tabular-nums}.verdict{font-weight:600}</style></head>
<body><h1>Experiment ${escapeHtml(report.experimentId)}</h1>
<p>Baseline: ${escapeHtml(report.control)}. Intervals are 95%, over visitors. Generated ${generatedAt.toISOString()}.</p>
${experimentSectionHtml(report)}
</body></html>
`;
}
