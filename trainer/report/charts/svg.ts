import { escapeHtml } from "../escape.ts";

/**
 * Small SVG building blocks. Inline SVG in an HTML document needs no namespace declaration (the
 * HTML parser supplies it), which keeps every URL, even the namespace's, out of the report.
 */

/** Colours for data series, distinguishable in print and for the common colour-vision deficiencies (Okabe & Ito). */
const SERIES_COLOURS = [
  "#0072b2",
  "#e69f00",
  "#009e73",
  "#cc79a7",
  "#56b4e9",
  "#d55e00",
  "#f0e442",
  "#000000",
] as const;

export function seriesColour(index: number): string {
  return SERIES_COLOURS[index % SERIES_COLOURS.length]!;
}

export interface ChartFrame {
  width: number;
  height: number;
  /** Read by screen readers and shown as a tooltip. */
  title: string;
}

export function svg(frame: ChartFrame, body: string): string {
  const title = escapeHtml(frame.title);
  return (
    `<svg class="chart" viewBox="0 0 ${frame.width} ${frame.height}" width="${frame.width}" height="${frame.height}" role="img" aria-label="${title}">` +
    `<title>${title}</title>${body}</svg>`
  );
}

type Attributes = Record<string, string | number>;

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .map(([name, value]) => ` ${name}="${escapeHtml(typeof value === "number" ? round(value).toString() : value)}"`)
    .join("");
}

/** Coordinates to 0.01 px: finer is invisible and only bloats the file. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function text(x: number, y: number, content: string, attrs: Attributes = {}): string {
  return `<text${attributes({ x, y, ...attrs })}>${escapeHtml(content)}</text>`;
}

/** Hover text for the enclosing group. */
export function tooltip(content: string): string {
  return `<title>${escapeHtml(content)}</title>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, attrs: Attributes = {}): string {
  return `<line${attributes({ x1, y1, x2, y2, ...attrs })}/>`;
}

export function rect(x: number, y: number, width: number, height: number, attrs: Attributes = {}): string {
  return `<rect${attributes({ x, y, width: Math.max(0, width), height: Math.max(0, height), ...attrs })}/>`;
}

export function circle(cx: number, cy: number, r: number, attrs: Attributes = {}): string {
  return `<circle${attributes({ cx, cy, r, ...attrs })}/>`;
}

export function polyline(points: readonly (readonly [number, number])[], attrs: Attributes = {}): string {
  const coordinates = points.map(([x, y]) => `${round(x)},${round(y)}`).join(" ");
  return `<polyline${attributes({ points: coordinates, fill: "none", ...attrs })}/>`;
}

/** A chart with nothing to draw still renders, saying so, so the page layout does not depend on the data. */
export function emptyChart(frame: ChartFrame, message: string): string {
  return svg(frame, text(frame.width / 2, frame.height / 2, message, { "text-anchor": "middle", class: "muted" }));
}

/** A legend row of coloured swatches and names, starting at (x, y). */
export function legend(x: number, y: number, names: readonly string[]): string {
  let offset = x;
  return names
    .map((name, i) => {
      const item =
        rect(offset, y - 9, 10, 10, { fill: seriesColour(i) }) + text(offset + 14, y, name, { class: "legend" });
      offset += 24 + name.length * 7;
      return item;
    })
    .join("");
}
