import { describe, expect, test } from "vitest";
import { evaluatePolicies } from "../../trainer/ope/compare.ts";
import { publishGate } from "../../trainer/ope/gate.ts";
import { escapeHtml } from "../../trainer/report/escape.ts";
import { formatNumber } from "../../trainer/report/format.ts";
import { renderReport, type ReportData } from "../../trainer/report/render.ts";
import { niceTicks } from "../../trainer/report/scale.ts";
import { BANDIT, banditLog, MDP, mdpLog, tablePolicy } from "./ope-fixtures.ts";

const NASTY_NAME = `greedy <v2> & "friends"`;
const comparison = evaluatePolicies(banditLog(BANDIT, 1500, 8), {
  candidate: tablePolicy(NASTY_NAME, [
    [0, 1, 0],
    [0, 0, 1],
    [0, 1, 0],
  ]),
  gamma: 0,
  level: 0.95,
  seed: 1,
  interval: { method: "bootstrap", replicates: 100 },
});

const data: ReportData = {
  title: "edge-promo training report <run 7>",
  generatedAt: "2025-01-01T00:00:00Z",
  facts: [
    { label: "algorithm", value: "dqn" },
    { label: "decisions", value: 1500 },
  ],
  learningCurve: {
    unit: "epoch",
    loss: [0.9, 0.5, 0.31, 0.3, Number.NaN, 0.28],
    meanQ: [0.1, 0.2, 0.25, 0.27, 0.28, 0.28],
  },
  comparison,
  gate: publishGate(
    {
      against: "fallback",
      estimate: { estimator: "first-order", value: 0.3, lower: -0.2, upper: 0.8, level: 0.95 },
      ess: 4000,
    },
    { force: true },
  ),
  featureImportance: [
    { feature: "device", importance: 0.12 },
    { feature: "cartValue", importance: 0.4 },
    { feature: "<script>", importance: 0 },
  ],
};
const html = renderReport(data);

/** The aria-labels of the report's charts, one per <svg>. */
function chartTitles(page: string): string[] {
  return [...page.matchAll(/<svg[^>]*aria-label="([^"]*)"/g)].map((m) => m[1]!);
}

describe("renderReport", () => {
  test("is one HTML document", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<html/g)).toHaveLength(1);
    expect(html.trimEnd().endsWith("</html>")).toBe(true);
  });

  test("draws an SVG per chart: loss, mean Q, offline estimates, action mix, feature importance", () => {
    expect(chartTitles(html)).toEqual([
      "Loss per epoch",
      "Mean Q per epoch",
      "Offline estimates: reward per decision",
      "Share of decisions per action on the logged states",
      "Permutation importance on the chosen action",
    ]);
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html.match(/<\/svg>/g)).toHaveLength(5);
  });

  test("adds the discounted-return estimates when γ > 0", () => {
    const episodic = evaluatePolicies(mdpLog(MDP, 200, 2), {
      candidate: tablePolicy("c", [
        [0, 1],
        [1, 0],
      ]),
      gamma: 0.9,
      level: 0.9,
      seed: 1,
      interval: { method: "bootstrap", replicates: 50 },
    });
    expect(chartTitles(renderReport({ ...data, comparison: episodic }))).toContain(
      "Offline estimates: discounted return per visit",
    );
  });

  test("names every compared policy and estimator, escaped", () => {
    for (const policy of comparison.policies) expect(html).toContain(escapeHtml(policy.name));
    expect(html).toContain("greedy &lt;v2&gt; &amp; &quot;friends&quot;");
    for (const label of ["IPS", "SNIPS", "DR", "on-policy mean", "uniform", "logging", "always "])
      expect(html).toContain(label);
  });

  test("escapes all text: no markup from data gets through", () => {
    expect(html).not.toContain("<v2>");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<run 7>");
    expect(html).toContain("&lt;script&gt;");
  });

  test("loads nothing from outside: no URLs, no scripts, no stylesheets by reference", () => {
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link|<img|@import|url\(/i);
  });

  test("shows the gate's verdict and the note on the best fixed action", () => {
    expect(html).toContain("Publishing allowed");
    expect(html).toContain("forced with --force");
    expect(html).toContain("optimistic");
  });

  test("says which sections were not part of the run instead of drawing empty charts", () => {
    const bare = renderReport({ ...data, learningCurve: null, comparison: null, gate: null, featureImportance: null });
    expect(bare).not.toContain("<svg");
    expect(bare).toContain("Training was not part of this run.");
    expect(bare).toContain("Offline evaluation was not part of this run.");
  });

  test("still draws a chart, saying so, when a series is empty", () => {
    const empty = renderReport({ ...data, learningCurve: { unit: "sweep", loss: [], meanQ: [1] } });
    expect(empty).toContain("Loss per sweep: no data");
    expect(chartTitles(empty)).toContain("Mean Q per sweep");
  });
});

describe("report helpers", () => {
  test("escapeHtml covers the five special characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  test("niceTicks gives round steps that cover the data", () => {
    expect(niceTicks(0, 1)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], min: 0, max: 1 });
    const { ticks, min, max } = niceTicks(0.13, 0.87);
    expect(min).toBeLessThanOrEqual(0.13);
    expect(max).toBeGreaterThanOrEqual(0.87);
    expect(ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
  });

  test("formatNumber keeps 4 significant digits and marks undefined values", () => {
    expect(formatNumber(0.123456)).toBe("0.1235");
    expect(formatNumber(1234.5)).toBe("1235");
    expect(formatNumber(Number.NaN)).toBe("n/a");
    expect(formatNumber(0)).toBe("0");
  });
});
