import { fixedInterval, type ArmFigures, type Estimate } from "./experiment-stats.ts";
import type { Comparison, ExperimentReport } from "./experiment-verdict.ts";

/**
 * The experiment report as HTML fragments and text cells, shared by `promo report experiment --html`
 * and the Worker's /admin page, so that both show the same figures the same way. No script, no
 * external resource: charts are inline SVG.
 */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
}

/**
 * A figure to `digits` places, or "n/a" when there is none: an arm without visitors has no mean, and
 * one with a single visitor no interval (NaN and ±Infinity, which JSON turns into null).
 */
export function figure(x: number | null, digits: number): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

const withInterval = (e: Estimate, digits: number) => {
  const { lo, hi } = fixedInterval(e);
  return `${figure(e.mean, digits)} [${figure(lo, digits)}, ${figure(hi, digits)}]`;
};

/** The per-arm columns: counts, then rates and per-visitor figures with their 95% visitor-level intervals. */
export const ARM_COLUMNS: readonly (readonly [string, (f: ArmFigures) => string])[] = [
  ["visitors", (f) => String(f.visitors)],
  ["decisions", (f) => String(f.decisions)],
  ["click rate", (f) => withInterval(f.clickRate, 4)],
  ["conversion rate", (f) => withInterval(f.conversionRate, 4)],
  ["revenue/visitor", (f) => withInterval(f.revenuePerVisitor, 2)],
  ["margin/visitor", (f) => withInterval(f.marginPerVisitor, 2)],
  ["promotion cost/visitor", (f) => withInterval(f.promotionCostPerVisitor, 2)],
  ["value/visitor", (f) => withInterval(f.valuePerVisitor, 3)],
];

const signed = (x: number, digits: number) =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}` : "n/a";
const between = (x: { mean: number; lo: number; hi: number }, digits: number) =>
  `${signed(x.mean, digits)} [${signed(x.lo, digits)}, ${signed(x.hi, digits)}]`;

/** One line per comparison against the baseline, on always-valid intervals. */
export function comparisonLine(c: Comparison, baseline: string): string {
  return (
    `${c.arm} − ${baseline} (always-valid 95%): value/visitor ${between(c.value, 3)}, mSPRT p ${figure(c.pValue, 3)}; ` +
    `promotion cost/visitor ${between(c.promotionCost, 2)}; conversion rate ${between(c.conversionRate, 4)}; ` +
    `ROI of promotion spend ${c.roi === null ? "n/a (no extra spend)" : signed(c.roi, 2)}`
  );
}

/** Value per visitor by arm, with 95% intervals. */
function valueChart(report: ExperimentReport): string {
  const bars = Object.entries(report.arms).map(([name, f]) => ({
    name,
    ...f.valuePerVisitor,
    ...fixedInterval(f.valuePerVisitor),
  }));
  const finite = bars.flatMap((b) => [b.lo, b.hi, 0]).filter(Number.isFinite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const width = 560;
  const rowHeight = 36;
  const x = (v: number) => 140 + ((v - min) / (max - min || 1)) * (width - 180);
  const height = 30 + bars.length * rowHeight;
  const rows = bars.map((b, i) => {
    const y = 20 + i * rowHeight;
    const mean = Number.isFinite(b.mean) ? b.mean : 0;
    return (
      `<text x="8" y="${y + 5}">${escapeHtml(b.name)}</text>` +
      (Number.isFinite(b.lo)
        ? `<line x1="${x(b.lo)}" x2="${x(b.hi)}" y1="${y}" y2="${y}" stroke="#333" stroke-width="2"/>`
        : "") +
      `<circle cx="${x(mean)}" cy="${y}" r="5" fill="#2a6fdb"><title>${figure(mean, 3)}</title></circle>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="value per visitor by arm">` +
    `<line x1="${x(0)}" x2="${x(0)}" y1="0" y2="${height}" stroke="#bbb" stroke-dasharray="4 3"/>${rows.join("")}</svg>`
  );
}

/** The report's table, chart, comparisons, sample-ratio check and verdict. */
export function experimentSectionHtml(report: ExperimentReport): string {
  const head = ARM_COLUMNS.map(([h]) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = Object.entries(report.arms)
    .map(
      ([name, f]) =>
        `<tr><th>${escapeHtml(name)}</th>${ARM_COLUMNS.map(([, cell]) => `<td>${escapeHtml(cell(f))}</td>`).join("")}</tr>`,
    )
    .join("");
  const comparisons = report.comparisons
    .map((c) => `<li>${escapeHtml(comparisonLine(c, report.control))}</li>`)
    .join("");
  const { sampleRatio, verdict } = report;
  return `<table class="arms"><thead><tr><th>arm</th>${head}</tr></thead><tbody>${body}</tbody></table>
<h3>Value per visitor (95% intervals over visitors)</h3>${valueChart(report)}
<h3>Against ${escapeHtml(report.control)}</h3><ul>${comparisons}</ul>
<p>Sample ratio: χ² ${figure(sampleRatio.chiSquare, 2)} (${sampleRatio.degreesOfFreedom} df), ${sampleRatio.mismatch ? "<strong>mismatch</strong>" : "ok"}.</p>
<p class="verdict">Verdict: ${escapeHtml(verdict.action)}: ${escapeHtml(verdict.reason)}</p>`;
}
