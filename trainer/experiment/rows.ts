import type { ExperimentLogRow } from "../../shared/experiment-verdict.ts";
import type { Experiment } from "../../shared/experiment.ts";
import { outcomesByDecision } from "../../shared/log-row.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";

/**
 * The experiment's decisions since it started, joined to their outcomes: the rows the monitor
 * reads from D1 with one query, built here from any log source (local, remote, a JSONL file).
 */
export function experimentRows(
  experiment: Experiment,
  decisions: readonly DecisionRow[],
  outcomes: readonly OutcomeRow[],
): ExperimentLogRow[] {
  const since = Date.parse(experiment.startedAt);
  const byDecision = outcomesByDecision(outcomes);
  const rows: ExperimentLogRow[] = [];
  for (const d of decisions) {
    if (d.experimentId !== experiment.id || d.arm == null || d.ts < since) continue;
    const base = { decisionId: d.id, visitorHash: d.visitorHash, arm: d.arm, action: d.action };
    const attached = byDecision.get(d.id) ?? [];
    if (attached.length === 0) rows.push({ ...base, kind: null, value: null });
    for (const o of attached) rows.push({ ...base, kind: o.kind, value: o.value });
  }
  return rows;
}
