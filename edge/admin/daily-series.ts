import { archiveDay } from "../../shared/archive.ts";
import { rewardOf, type RewardSpec } from "../../shared/reward.ts";
import type { Catalogue } from "../../shared/catalogue.ts";
import type { OutcomeKind } from "../../shared/schema.ts";

/** One decision of the window, or one of its outcomes, as the admin page's query returns them. */
export interface DashboardLogRow {
  decisionId: string;
  ts: number;
  visitorHash: string;
  /** The experiment arm, or else the policy version that decided. */
  series: string;
  action: string;
  explored: number;
  kind: OutcomeKind | null;
  value: number | null;
}

export interface DayFigures {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  series: string;
  visitors: number;
  decisions: number;
  /** Σ reward of the day's decisions (outcomes attributed to the decision's day) per visitor. */
  valuePerVisitor: number;
  exploredShare: number;
  /** Decisions per promotion id. */
  actions: Record<string, number>;
}

/** Figures per UTC day and series (arm or policy version): the plots of the admin page. */
export function dailySeries(rows: readonly DashboardLogRow[], catalogue: Catalogue, reward: RewardSpec): DayFigures[] {
  const index = new Map(catalogue.map((p, i) => [p.id, i]));
  const groups = new Map<
    string,
    {
      day: string;
      series: string;
      visitors: Set<string>;
      decisions: Set<string>;
      explored: number;
      value: number;
      actions: Record<string, number>;
    }
  >();
  for (const row of rows) {
    const day = archiveDay(row.ts);
    const key = `${day}\u0000${row.series}`;
    let g = groups.get(key);
    if (!g) {
      g = { day, series: row.series, visitors: new Set(), decisions: new Set(), explored: 0, value: 0, actions: {} };
      groups.set(key, g);
    }
    g.visitors.add(row.visitorHash);
    if (!g.decisions.has(row.decisionId)) {
      g.decisions.add(row.decisionId);
      g.explored += row.explored ? 1 : 0;
      g.actions[row.action] = (g.actions[row.action] ?? 0) + 1;
    }
    const at = index.get(row.action);
    if (row.kind !== null && at !== undefined)
      g.value += rewardOf([{ kind: row.kind, value: row.value ?? 0 }], at, catalogue, reward);
  }
  return [...groups.values()]
    .map((g) => ({
      day: g.day,
      series: g.series,
      visitors: g.visitors.size,
      decisions: g.decisions.size,
      valuePerVisitor: g.value / g.visitors.size,
      exploredShare: g.explored / g.decisions.size,
      actions: g.actions,
    }))
    .sort((a, b) => a.day.localeCompare(b.day) || a.series.localeCompare(b.series));
}
