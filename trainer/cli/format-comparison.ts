import type { PolicyComparison } from "../ope/index.ts";

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "n/a");

/** The offline comparison as a plain-text table, one row per policy and estimator. */
export function formatComparison(comparison: PolicyComparison): string {
  const level = `${Math.round(comparison.level * 100)}%`;
  const lines = [
    `offline estimates on ${comparison.decisions} decisions, ${comparison.visitors} visitors (γ = ${comparison.gamma}, ${level} ${comparison.intervalMethod} intervals)`,
    `${"policy".padEnd(24)} ${"estimator".padEnd(17)} ${"value".padStart(9)}  ${`${level} interval`.padEnd(21)} ${"ESS".padStart(8)}`,
  ];
  for (const policy of comparison.policies) {
    for (const e of policy.estimates) {
      const mark = e === policy.primary || e.estimator === policy.primary.estimator ? "*" : " ";
      lines.push(
        `${policy.name.slice(0, 24).padEnd(24)} ${`${e.estimator}${mark}`.padEnd(17)} ${fmt(e.value).padStart(9)}  ${`[${fmt(e.lower)}, ${fmt(e.upper)}]`.padEnd(21)} ${Math.round(e.ess).toString().padStart(8)}`,
      );
    }
  }
  lines.push("* the estimate the publish gate compares");
  return lines.join("\n");
}
