import { formatNumber } from "../format.ts";
import { linearScale, niceTicks } from "../scale.ts";
import { valueAxisBottom, type PlotArea } from "./axes.ts";
import { emptyChart, rect, svg, text, type ChartFrame } from "./svg.ts";

export interface HorizontalBar {
  label: string;
  value: number;
}

export interface HorizontalBarChartSpec {
  title: string;
  xLabel: string;
  /** Drawn top to bottom in the given order. */
  bars: readonly HorizontalBar[];
}

const WIDTH = 640;
const LABEL_WIDTH = 190;
const ROW_HEIGHT = 22;
const TOP = 16;
const BOTTOM_MARGIN = 46;

/** One bar per label, from 0: e.g. feature importance. */
export function horizontalBarChart(spec: HorizontalBarChartSpec): string {
  const height = TOP + spec.bars.length * ROW_HEIGHT + BOTTOM_MARGIN;
  const frame: ChartFrame = { width: WIDTH, height, title: spec.title };
  if (spec.bars.length === 0) return emptyChart({ ...frame, height: 80 }, `${spec.title}: no data`);

  const area: PlotArea = { left: LABEL_WIDTH, right: WIDTH - 60, top: TOP - 6, bottom: height - BOTTOM_MARGIN };
  const finite = spec.bars.map((b) => b.value).filter(Number.isFinite);
  const axis = niceTicks(Math.min(0, ...finite), Math.max(0, ...finite, 1e-9));
  const x = linearScale(axis.min, axis.max, area.left, area.right);

  const rows = spec.bars
    .map((bar, i) => {
      const y = TOP + i * ROW_HEIGHT;
      const label = text(area.left - 8, y + ROW_HEIGHT / 2 + 2, bar.label, { "text-anchor": "end", class: "label" });
      if (!Number.isFinite(bar.value)) return label;
      const from = Math.min(x(0), x(bar.value));
      const body = rect(from, y + 3, Math.abs(x(bar.value) - x(0)), ROW_HEIGHT - 8, { fill: "#0072b2" });
      return (
        label +
        body +
        text(Math.max(x(0), x(bar.value)) + 4, y + ROW_HEIGHT / 2 + 2, formatNumber(bar.value), { class: "tick" })
      );
    })
    .join("");
  return svg(frame, valueAxisBottom(area, axis.ticks, x, spec.xLabel) + rows);
}
