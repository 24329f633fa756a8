import { formatPercent } from "../format.ts";
import { linearScale, niceTicks } from "../scale.ts";
import { valueAxisLeft, type PlotArea } from "./axes.ts";
import { emptyChart, legend, rect, seriesColour, svg, text, tooltip, type ChartFrame } from "./svg.ts";

export interface BarSeries {
  name: string;
  /** One value per category, in [0, 1]: shares, drawn as percentages. */
  values: readonly number[];
}

export interface GroupedBarChartSpec {
  title: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly BarSeries[];
}

const HEIGHT = 300;
const AREA_TOP = 34;
const AREA_BOTTOM = 230;

/** Bars side by side per category, one colour per series: e.g. each action's share under two policies. */
export function groupedBarChart(spec: GroupedBarChartSpec): string {
  const width = Math.max(640, 80 + spec.categories.length * (spec.series.length * 18 + 24));
  const frame: ChartFrame = { width, height: HEIGHT, title: spec.title };
  if (spec.categories.length === 0 || spec.series.length === 0) return emptyChart(frame, `${spec.title}: no data`);

  const area: PlotArea = { left: 64, right: width - 16, top: AREA_TOP, bottom: AREA_BOTTOM };
  const top = Math.max(0.01, ...spec.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const axis = niceTicks(0, top);
  const y = linearScale(0, axis.max, area.bottom, area.top);
  const groupWidth = (area.right - area.left) / spec.categories.length;
  const barWidth = Math.min(28, (groupWidth - 12) / spec.series.length);

  const groups = spec.categories
    .map((category, c) => {
      const groupLeft = area.left + c * groupWidth + (groupWidth - barWidth * spec.series.length) / 2;
      const bars = spec.series
        .map((series, s) => {
          const value = series.values[c] ?? Number.NaN;
          if (!Number.isFinite(value)) return "";
          const bar = rect(groupLeft + s * barWidth, y(value), barWidth - 2, area.bottom - y(value), {
            fill: seriesColour(s),
          });
          return `<g>${tooltip(`${series.name}, ${category}: ${formatPercent(value)}`)}${bar}</g>`;
        })
        .join("");
      const labelX = area.left + (c + 0.5) * groupWidth;
      const label = text(labelX, area.bottom + 14, category, {
        "text-anchor": "end",
        transform: `rotate(-30 ${labelX} ${area.bottom + 14})`,
        class: "tick",
      });
      return bars + label;
    })
    .join("");
  return svg(
    frame,
    valueAxisLeft(area, axis.ticks, y, spec.yLabel, formatPercent) +
      groups +
      legend(
        area.left,
        20,
        spec.series.map((s) => s.name),
      ),
  );
}
