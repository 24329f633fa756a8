import type { EndedExperiment, MonitorLook } from "../../shared/experiment-registry.ts";
import { escapeHtml, experimentSectionHtml } from "../../shared/experiment-html.ts";
import type { ExperimentReport } from "../../shared/experiment-verdict.ts";
import type { Experiment } from "../../shared/experiment.ts";
import type { PointerMove } from "../../shared/policy-store.ts";
import type { TrainingSummary } from "../../shared/policy/types.ts";
import type { LogLoss } from "../logging/log-shipper.ts";
import type { DayFigures } from "./daily-series.ts";

/** Everything the admin page shows, gathered by the route; rendering does no I/O. */
export interface DashboardData {
  generatedAt: Date;
  served: {
    version: string;
    algorithm: string;
    source: string;
    createdAt: string | null;
    training: TrainingSummary | null;
    problem: string | null;
  };
  history: PointerMove[];
  experiment: { experiment: Experiment; report: ExperimentReport } | null;
  experimentProblem: string | null;
  monitorLook: MonitorLook | null;
  lastExperiment: EndedExperiment | null;
  days: DayFigures[];
  logLoss: LogLoss;
}

const PALETTE = ["#2a6fdb", "#d9534f", "#2e9e5b", "#f0a30a", "#7b4fb3", "#1aa3a3", "#8c564b", "#e377c2"];

interface Point {
  x: number;
  y: number;
}

/** Lines over the days, one per series, with a legend; an empty note when there is nothing to draw. */
function lineChart(
  title: string,
  days: readonly string[],
  series: ReadonlyMap<string, Point[]>,
  format: (y: number) => string,
): string {
  const ys = [...series.values()]
    .flat()
    .map((p) => p.y)
    .filter(Number.isFinite);
  if (ys.length === 0) return `<p class="empty">${escapeHtml(title)}: no data in the window.</p>`;
  const [width, height, left, bottom] = [640, 220, 56, 24];
  const lo = Math.min(0, ...ys);
  const hi = Math.max(...ys, lo + 1e-9);
  const x = (i: number) => left + (days.length <= 1 ? 0 : (i / (days.length - 1)) * (width - left - 10));
  const y = (v: number) => 10 + (1 - (v - lo) / (hi - lo)) * (height - bottom - 10);
  const lines = [...series].map(([name, points], k) => {
    const colour = PALETTE[k % PALETTE.length]!;
    const path = points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
    const dots = points
      .map(
        (p) =>
          `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3" fill="${colour}"><title>${escapeHtml(`${name} ${days[p.x]}: ${format(p.y)}`)}</title></circle>`,
      )
      .join("");
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${path}"/>${dots}`;
  });
  const legend = [...series.keys()]
    .map((name, k) => `<span class="key" style="--c:${PALETTE[k % PALETTE.length]}">${escapeHtml(name)}</span>`)
    .join(" ");
  const axis =
    `<text x="4" y="${y(hi) + 4}">${escapeHtml(format(hi))}</text><text x="4" y="${y(lo) + 4}">${escapeHtml(format(lo))}</text>` +
    `<text x="${left}" y="${height - 6}">${escapeHtml(days[0] ?? "")}</text>` +
    `<text x="${width - 80}" y="${height - 6}">${escapeHtml(days.at(-1) ?? "")}</text>`;
  return `<figure><figcaption>${escapeHtml(title)} ${legend}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">${axis}${lines.join("")}</svg></figure>`;
}

/** Share of decisions per promotion, per day, stacked. */
function mixChart(days: readonly string[], byDay: ReadonlyMap<string, Record<string, number>>): string {
  const actions = [...new Set([...byDay.values()].flatMap((a) => Object.keys(a)))].sort();
  if (actions.length === 0) return `<p class="empty">Promotion mix: no data in the window.</p>`;
  const [width, height] = [640, 200];
  const barWidth = Math.max(4, Math.min(40, (width - 20) / Math.max(1, days.length) - 4));
  const bars = days.map((day, i) => {
    const counts = byDay.get(day) ?? {};
    const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
    let top = height - 20;
    return actions
      .map((action, k) => {
        const h = ((counts[action] ?? 0) / total) * (height - 30);
        top -= h;
        return `<rect x="${10 + i * (barWidth + 4)}" y="${top.toFixed(1)}" width="${barWidth}" height="${h.toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${escapeHtml(`${day} ${action}: ${(((counts[action] ?? 0) / total) * 100).toFixed(1)}%`)}</title></rect>`;
      })
      .join("");
  });
  const legend = actions
    .map((a, k) => `<span class="key" style="--c:${PALETTE[k % PALETTE.length]}">${escapeHtml(a)}</span>`)
    .join(" ");
  return `<figure><figcaption>Promotion mix per day ${legend}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="promotion mix per day">${bars.join("")}</svg></figure>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return `<p class="empty">none</p>`;
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function gateLine(training: TrainingSummary | null): string {
  const improvement = training?.improvement;
  if (!improvement) return "no paired estimate recorded (published before the gate, or forced)";
  const e = improvement.estimate;
  return `against ${improvement.against}: ${e.value.toFixed(4)} [${e.lower.toFixed(4)}, ${e.upper.toFixed(4)}] (${e.estimator}, effective sample ${Math.round(improvement.ess)})`;
}

export function renderDashboard(data: DashboardData): string {
  const { served, days, logLoss } = data;
  const dayNames = [...new Set(days.map((d) => d.day))].sort();
  const dayIndex = new Map(dayNames.map((d, i) => [d, i]));
  const value = new Map<string, Point[]>();
  const decisionsByDay = new Map<string, number>();
  const exploredByDay = new Map<string, number>();
  const mix = new Map<string, Record<string, number>>();
  for (const d of days) {
    const points = value.get(d.series) ?? [];
    points.push({ x: dayIndex.get(d.day)!, y: d.valuePerVisitor });
    value.set(d.series, points);
    decisionsByDay.set(d.day, (decisionsByDay.get(d.day) ?? 0) + d.decisions);
    exploredByDay.set(d.day, (exploredByDay.get(d.day) ?? 0) + d.exploredShare * d.decisions);
    const counts = mix.get(d.day) ?? {};
    for (const [action, n] of Object.entries(d.actions)) counts[action] = (counts[action] ?? 0) + n;
    mix.set(d.day, counts);
  }
  const exploration = new Map([
    ["all traffic", dayNames.map((day, i) => ({ x: i, y: exploredByDay.get(day)! / decisionsByDay.get(day)! }))],
  ]);
  const experiment = data.experiment
    ? `<p>Running: <strong>${escapeHtml(data.experiment.experiment.id)}</strong> since ${escapeHtml(data.experiment.experiment.startedAt)}; arms ${escapeHtml(
        data.experiment.experiment.arms.map((a) => `${a.name} (weight ${a.weight})`).join(", "),
      )}.</p>${experimentSectionHtml(data.experiment.report)}`
    : `<p>No experiment is running.</p>`;
  const problems = [
    served.problem ? `policy: ${served.problem}` : null,
    data.experimentProblem ? `experiment: ${data.experimentProblem}` : null,
    logLoss.lost > 0 ? `logging: ${logLoss.lost} rows lost` : null,
  ].filter((p) => p !== null);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>edge-promo admin</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1100px}h1{margin-top:0}section{margin-bottom:1.5rem}table{border-collapse:collapse}th,td{padding:3px 9px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}td{font-variant-numeric:tabular-nums}.key::before{content:"";display:inline-block;width:10px;height:10px;margin:0 4px 0 8px;background:var(--c)}.status-ok{color:#2e7d32}.status-degraded{color:#c62828}.empty{color:#777}figure{margin:0 0 1rem}figcaption{margin-bottom:4px}svg text{font-size:11px;fill:#555}.verdict{font-weight:600}</style></head>
<body>
<h1>edge-promo</h1>
<p id="health" class="status-${problems.length ? "degraded" : "ok"}">${problems.length ? `Degraded: ${escapeHtml(problems.join("; "))}` : "Healthy"} · generated ${data.generatedAt.toISOString()} by this isolate</p>
<section id="policy"><h2>Policy served</h2>
${table(["version", "algorithm", "source", "created", "the gate's paired estimate"], [[served.version, served.algorithm, served.source, served.createdAt ?? "—", gateLine(served.training)]])}
<h3>Pointer history</h3>
${table(
  ["at", "version", "why"],
  [...data.history].reverse().map((m) => [m.at, m.version, m.reason]),
)}
</section>
<section id="experiment"><h2>Experiment</h2>${experiment}
<h3>The monitor</h3>
<p>${data.monitorLook ? `Last look ${escapeHtml(data.monitorLook.at)} at ${escapeHtml(data.monitorLook.experimentId)}: <strong>${escapeHtml(data.monitorLook.action)}</strong>: ${escapeHtml(data.monitorLook.reason)}` : "The monitor has not looked yet."}</p>
<p>${data.lastExperiment ? `Last ended: ${escapeHtml(data.lastExperiment.experiment.id)}, <strong>${escapeHtml(data.lastExperiment.outcome)}</strong> by the ${escapeHtml(data.lastExperiment.by)} at ${escapeHtml(data.lastExperiment.endedAt)}: ${escapeHtml(data.lastExperiment.reason)}` : "No experiment has ended."}</p>
</section>
<section id="trends"><h2>Over time (the 30 days up to the latest decision, UTC)</h2>
${lineChart("Value per visitor per day, by arm or policy version", dayNames, value, (v) => v.toFixed(2))}
${mixChart(dayNames, mix)}
${lineChart("Exploration share per day", dayNames, exploration, (v) => `${(v * 100).toFixed(1)}%`)}
</section>
<section id="logs"><h2>Log health (this isolate)</h2>
${table(["queue send failures", "written to D1 directly", "dead-lettered", "replayed", "lost", "capped outcomes"], [[logLoss.queueSendFailures, logLoss.writtenDirect, logLoss.deadLettered, logLoss.replayed, logLoss.lost, logLoss.capped].map(String)])}
</section>
</body></html>
`;
}
