import type { EstimatorName, Horizon } from "../ope/estimate.ts";
import type { EstimateSummary, PolicyComparison, PolicyEvaluation } from "../ope/compare.ts";
import type { GateDecision } from "../ope/gate.ts";
import { groupedBarChart } from "./charts/grouped-bar-chart.ts";
import { horizontalBarChart } from "./charts/horizontal-bar-chart.ts";
import { intervalPlot, type IntervalRow } from "./charts/interval-plot.ts";
import { lineChart } from "./charts/line-chart.ts";
import { escapeHtml } from "./escape.ts";
import { formatNumber, formatPercent } from "./format.ts";
import type { FeatureImportance } from "./permutation-importance.ts";

export interface LearningCurve {
  /** What one point is: "epoch" for the DQN, "sweep" for tabular Q-learning. */
  unit: string;
  /** Training loss per epoch or sweep (for tabular Q-learning, e.g. the mean absolute TD error). */
  loss: readonly number[];
  /** Mean Q-value of the logged state-actions per epoch or sweep: a rising mean Q with a flat reward hints at over-estimation. */
  meanQ: readonly number[];
}

export interface ReportFact {
  label: string;
  value: string | number;
}

/** Everything a report shows; a section whose data is null says it was not part of the run. */
export interface ReportData {
  title: string;
  /** Shown as given: the caller owns the clock and the format. */
  generatedAt: string;
  /** Key facts for the header: algorithm, backend, data window, … */
  facts: readonly ReportFact[];
  learningCurve: LearningCurve | null;
  comparison: PolicyComparison | null;
  gate: GateDecision | null;
  featureImportance: readonly FeatureImportance[] | null;
}

const ESTIMATOR_LABELS: Record<EstimatorName, string> = {
  ips: "IPS",
  snips: "SNIPS",
  dr: "DR",
  pdwis: "PDWIS",
  "on-policy": "on-policy mean",
  "on-policy-return": "on-policy return",
  "first-order": "first-order difference",
};

const HORIZON_TITLES: Record<Horizon, { title: string; axis: string }> = {
  immediate: { title: "Offline estimates: reward per decision", axis: "expected reward per decision" },
  return: { title: "Offline estimates: discounted return per visit", axis: "expected discounted return per episode" },
};

/** A self-contained HTML page: inline CSS and SVG, no scripts, no external assets. */
export function renderReport(data: ReportData): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(data.title)}</h1>`,
    `<p class="muted">Generated ${escapeHtml(data.generatedAt)}</p>`,
    factsSection(data.facts),
    gateSection(data.gate),
    learningCurveSection(data.learningCurve),
    evaluationSection(data.comparison),
    actionMixSection(data.comparison),
    importanceSection(data.featureImportance),
    "</body></html>",
  ].join("\n");
}

function section(heading: string, body: string): string {
  return `<section><h2>${escapeHtml(heading)}</h2>${body}</section>`;
}

function notInRun(what: string): string {
  return `<p class="muted">${escapeHtml(what)} was not part of this run.</p>`;
}

function factsSection(facts: readonly ReportFact[]): string {
  if (facts.length === 0) return "";
  const rows = facts.map(
    (f) =>
      `<tr><th>${escapeHtml(f.label)}</th><td>${escapeHtml(typeof f.value === "number" ? formatNumber(f.value) : f.value)}</td></tr>`,
  );
  return `<table class="facts">${rows.join("")}</table>`;
}

function gateSection(gate: GateDecision | null): string {
  if (!gate) return section("Publish gate", notInRun("The publish gate"));
  const verdict = gate.allowed ? "Publishing allowed" : "Publishing refused";
  return section(
    "Publish gate",
    `<p class="gate ${gate.allowed ? "allowed" : "refused"}"><strong>${verdict}:</strong> ${escapeHtml(gate.reason)}</p>`,
  );
}

function learningCurveSection(curve: LearningCurve | null): string {
  if (!curve) return section("Learning curve", notInRun("Training"));
  const xLabel = curve.unit;
  return section(
    "Learning curve",
    lineChart({
      title: `Loss per ${curve.unit}`,
      xLabel,
      yLabel: "loss",
      series: [{ name: "loss", values: curve.loss }],
    }) +
      lineChart({
        title: `Mean Q per ${curve.unit}`,
        xLabel,
        yLabel: "mean Q",
        series: [{ name: "mean Q", values: curve.meanQ }],
      }),
  );
}

function evaluationSection(comparison: PolicyComparison | null): string {
  if (!comparison) return section("Offline evaluation", notInRun("Offline evaluation"));
  const horizons: Horizon[] = comparison.gamma > 0 ? ["immediate", "return"] : ["immediate"];
  const baseline =
    comparison.policies.find((p) => p.role === "current") ?? comparison.policies.find((p) => p.role === "logging");
  const plots = horizons.map((horizon) => {
    const reference = baseline ? headlineEstimate(baseline, horizon) : undefined;
    return intervalPlot({
      title: HORIZON_TITLES[horizon].title,
      xLabel: HORIZON_TITLES[horizon].axis,
      rows: comparison.policies.flatMap((policy) => intervalRows(policy, horizon)),
      reference: baseline && reference ? { label: `${baseline.name}:`, value: reference.value } : null,
    });
  });
  const notes = comparison.policies
    .filter((p) => p.note)
    .map((p) => `<li><strong>${escapeHtml(p.name)}</strong>: ${escapeHtml(p.note ?? "")}</li>`);
  const method =
    comparison.intervalMethod === "bootstrap"
      ? `percentile bootstrap, ${comparison.bootstrapReplicates} resamples, seed ${comparison.seed}`
      : `empirical Bernstein where the reward range bounds the estimator, else percentile bootstrap (${comparison.bootstrapReplicates} resamples, seed ${comparison.seed})`;
  const summary =
    `${comparison.decisions} decisions from ${comparison.visitors} visitors in ${comparison.episodes} episodes; γ = ${comparison.gamma}; ` +
    `${formatPercent(comparison.level)} intervals by ${method}; DR reward model: ${comparison.rewardModel === "trained-q" ? "the trained Q" : "fitted per state and action"}.`;
  return section(
    "Offline evaluation",
    `<p>${escapeHtml(summary)}</p>${plots.join("")}${estimatesTable(comparison)}` +
      (notes.length > 0 ? `<ul class="notes">${notes.join("")}</ul>` : ""),
  );
}

/** The estimate a policy is judged by on a horizon: DR or PDWIS off-policy, the on-policy figure for the logging policy. */
function headlineEstimate(policy: PolicyEvaluation, horizon: Horizon): EstimateSummary | undefined {
  const headline: readonly EstimatorName[] =
    horizon === "immediate" ? ["dr", "on-policy"] : ["pdwis", "on-policy-return"];
  return policy.estimates.find((e) => headline.includes(e.estimator));
}

function intervalRows(policy: PolicyEvaluation, horizon: Horizon): IntervalRow[] {
  return policy.estimates
    .filter((e) => e.horizon === horizon)
    .map((e) => ({
      label: `${policy.name} · ${ESTIMATOR_LABELS[e.estimator]}`,
      value: e.value,
      lower: e.lower,
      upper: e.upper,
      highlight: policy.role === "candidate",
    }));
}

function estimatesTable(comparison: PolicyComparison): string {
  const header =
    "<tr><th>Policy</th><th>Role</th><th>Estimator</th><th>Estimate</th><th>Interval</th><th>ESS</th><th>Interval method</th></tr>";
  const rows = comparison.policies.flatMap((policy) =>
    policy.estimates.map((e) => {
      const cells = [
        policy.name,
        policy.role,
        ESTIMATOR_LABELS[e.estimator] + (e === policy.primary ? " (primary)" : ""),
        formatNumber(e.value),
        `[${formatNumber(e.lower)}, ${formatNumber(e.upper)}]`,
        formatNumber(e.ess),
        e.interval,
      ];
      return `<tr${policy.role === "candidate" ? ' class="candidate"' : ""}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`;
    }),
  );
  return `<table class="estimates">${header}${rows.join("")}</table>`;
}

function actionMixSection(comparison: PolicyComparison | null): string {
  if (!comparison) return section("Action mix", notInRun("Offline evaluation"));
  const shown = comparison.policies.filter((p) => p.role === "candidate" || p.role === "logging");
  return section(
    "Action mix",
    groupedBarChart({
      title: "Share of decisions per action on the logged states",
      yLabel: "share of decisions",
      categories: comparison.actions,
      series: shown.map((p) => ({ name: p.role === "logging" ? "logging (observed)" : p.name, values: p.actionMix })),
    }),
  );
}

function importanceSection(importance: readonly FeatureImportance[] | null): string {
  if (!importance) return section("Feature importance", notInRun("Feature importance"));
  const sorted = [...importance].sort((a, b) => b.importance - a.importance);
  return section(
    "Feature importance",
    `<p class="muted">Share of logged states whose chosen action changes when the feature is permuted across states.</p>` +
      horizontalBarChart({
        title: "Permutation importance on the chosen action",
        xLabel: "share of decisions changed",
        bars: sorted.map((f) => ({ label: f.feature, value: f.importance })),
      }),
  );
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; max-width: 1000px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { text-align: left; padding: 0.25em 0.8em 0.25em 0; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
tr.candidate td { font-weight: 600; }
.muted { color: #6e6e73; }
.gate { padding: 0.6em 0.9em; border-radius: 4px; }
.gate.allowed { background: #e6f4ea; }
.gate.refused { background: #fce8e6; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 1em 0; font-family: inherit; }
svg .grid { stroke: #eee; }
svg .axis { stroke: #999; }
svg .reference { stroke: #555; stroke-dasharray: 4 3; }
svg .tick, svg .legend { font-size: 11px; fill: #444; }
svg .label { font-size: 12px; fill: #1d1d1f; }
svg .label.strong { font-weight: 600; }
svg .axis-label { font-size: 12px; fill: #444; }
svg .muted { font-size: 12px; fill: #6e6e73; }
`;
