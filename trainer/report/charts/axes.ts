import { formatNumber } from "../format.ts";
import { line, text } from "./svg.ts";

/** Inner plotting area of a chart, in SVG pixels. */
export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A vertical value axis at the left of the area, with horizontal grid lines at each tick. */
export function valueAxisLeft(
  area: PlotArea,
  ticks: readonly number[],
  y: (value: number) => number,
  label: string,
  format = formatNumber,
): string {
  const grid = ticks
    .map(
      (tick) =>
        line(area.left, y(tick), area.right, y(tick), { class: "grid" }) +
        text(area.left - 6, y(tick) + 4, format(tick), { "text-anchor": "end", class: "tick" }),
    )
    .join("");
  const title = text(14, (area.top + area.bottom) / 2, label, {
    transform: `rotate(-90 14 ${(area.top + area.bottom) / 2})`,
    "text-anchor": "middle",
    class: "axis-label",
  });
  return grid + line(area.left, area.top, area.left, area.bottom, { class: "axis" }) + title;
}

/** A horizontal value axis along the bottom of the area, with vertical grid lines at each tick. */
export function valueAxisBottom(
  area: PlotArea,
  ticks: readonly number[],
  x: (value: number) => number,
  label: string,
  format = formatNumber,
): string {
  const grid = ticks
    .map(
      (tick) =>
        line(x(tick), area.top, x(tick), area.bottom, { class: "grid" }) +
        text(x(tick), area.bottom + 16, format(tick), { "text-anchor": "middle", class: "tick" }),
    )
    .join("");
  const title = text((area.left + area.right) / 2, area.bottom + 34, label, {
    "text-anchor": "middle",
    class: "axis-label",
  });
  return grid + line(area.left, area.bottom, area.right, area.bottom, { class: "axis" }) + title;
}
