import { formatNumber } from "../format.ts";
import { extent, linearScale, niceTicks } from "../scale.ts";
import { valueAxisBottom, type PlotArea } from "./axes.ts";
import { circle, emptyChart, line, svg, text, tooltip, type ChartFrame } from "./svg.ts";

export interface IntervalRow {
  label: string;
  value: number;
  lower: number;
  upper: number;
  /** Drawn in the accent colour (the candidate's rows). */
  highlight: boolean;
}

export interface IntervalPlotSpec {
  title: string;
  xLabel: string;
  rows: readonly IntervalRow[];
  /** A vertical dashed line to read the rows against, e.g. the current policy's estimate. */
  reference: { label: string; value: number } | null;
}

const WIDTH = 640;
const LABEL_WIDTH = 230;
const ROW_HEIGHT = 24;
const TOP = 34;
const BOTTOM_MARGIN = 46;

/** One row per estimate: a point with error bars from lower to upper. */
export function intervalPlot(spec: IntervalPlotSpec): string {
  const height = TOP + spec.rows.length * ROW_HEIGHT + BOTTOM_MARGIN;
  const frame: ChartFrame = { width: WIDTH, height, title: spec.title };
  const span = extent(
    spec.rows.flatMap((r) => [r.value, r.lower, r.upper]).concat(spec.reference ? [spec.reference.value] : []),
  );
  if (spec.rows.length === 0 || span === null)
    return emptyChart({ ...frame, height: 80 }, `${spec.title}: no estimates`);

  const area: PlotArea = { left: LABEL_WIDTH, right: WIDTH - 20, top: TOP - 10, bottom: height - BOTTOM_MARGIN };
  const axis = niceTicks(span.min, span.max);
  const x = linearScale(axis.min, axis.max, area.left, area.right);

  const rows = spec.rows
    .map((row, i) => {
      const y = TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2 - 6;
      const colour = row.highlight ? "#d55e00" : "#0072b2";
      const label = text(area.left - 8, y + 4, row.label, {
        "text-anchor": "end",
        class: row.highlight ? "label strong" : "label",
      });
      if (!Number.isFinite(row.value))
        return label + text(area.left + 6, y + 4, "not identifiable from these logs", { class: "muted" });
      const bars =
        Number.isFinite(row.lower) && Number.isFinite(row.upper)
          ? line(x(row.lower), y, x(row.upper), y, { stroke: colour, "stroke-width": 2 }) +
            line(x(row.lower), y - 5, x(row.lower), y + 5, { stroke: colour, "stroke-width": 2 }) +
            line(x(row.upper), y - 5, x(row.upper), y + 5, { stroke: colour, "stroke-width": 2 })
          : "";
      const tip = tooltip(
        `${row.label}: ${formatNumber(row.value)} [${formatNumber(row.lower)}, ${formatNumber(row.upper)}]`,
      );
      return label + `<g>${tip}${bars}${circle(x(row.value), y, 4, { fill: colour })}</g>`;
    })
    .join("");

  const reference = spec.reference
    ? line(x(spec.reference.value), area.top, x(spec.reference.value), area.bottom, { class: "reference" }) +
      text(x(spec.reference.value), area.top - 4, `${spec.reference.label} ${formatNumber(spec.reference.value)}`, {
        "text-anchor": "middle",
        class: "tick",
      })
    : "";
  return svg(frame, valueAxisBottom(area, axis.ticks, x, spec.xLabel) + reference + rows);
}
