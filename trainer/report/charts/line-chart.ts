import { extent, linearScale, niceTicks } from "../scale.ts";
import { valueAxisBottom, valueAxisLeft, type PlotArea } from "./axes.ts";
import { circle, emptyChart, legend, polyline, seriesColour, svg, type ChartFrame } from "./svg.ts";

export interface LineSeries {
  name: string;
  /** values[i] is plotted at x = i + 1 (epoch or sweep 1, 2, …); a non-finite value breaks the line. */
  values: readonly number[];
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
}

const FRAME = { width: 640, height: 280 };
const AREA: PlotArea = { left: 64, right: 624, top: 30, bottom: 230 };

/** One line per series over 1 … n, e.g. training loss per epoch. */
export function lineChart(spec: LineChartSpec): string {
  const frame: ChartFrame = { ...FRAME, title: spec.title };
  const length = Math.max(0, ...spec.series.map((s) => s.values.length));
  const yExtent = extent(spec.series.flatMap((s) => s.values));
  if (length === 0 || yExtent === null) return emptyChart(frame, `${spec.title}: no data`);

  const yAxis = niceTicks(yExtent.min, yExtent.max);
  const xAxis = niceTicks(1, Math.max(length, 2));
  const x = linearScale(1, Math.max(length, 2), AREA.left, AREA.right);
  const y = linearScale(yAxis.min, yAxis.max, AREA.bottom, AREA.top);
  const xTicks = xAxis.ticks.filter((t) => Number.isInteger(t) && t >= 1 && t <= length);

  const lines = spec.series
    .map((series, i) => {
      const colour = seriesColour(i);
      return segments(series.values)
        .map((segment) =>
          segment.length === 1
            ? circle(x(segment[0]![0]), y(segment[0]![1]), 3, { fill: colour })
            : polyline(
                segment.map(([step, value]) => [x(step), y(value)] as const),
                { stroke: colour, "stroke-width": 2 },
              ),
        )
        .join("");
    })
    .join("");
  return svg(
    frame,
    valueAxisLeft(AREA, yAxis.ticks, y, spec.yLabel) +
      valueAxisBottom(AREA, xTicks, x, spec.xLabel) +
      lines +
      legend(
        AREA.left,
        18,
        spec.series.map((s) => s.name),
      ),
  );
}

/** Runs of consecutive finite values as [x, value] pairs, x counting from 1. */
function segments(values: readonly number[]): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  values.forEach((value, i) => {
    if (Number.isFinite(value)) run.push([i + 1, value]);
    else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
  });
  if (run.length > 0) runs.push(run);
  return runs;
}
