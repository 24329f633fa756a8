import type { DecisionRow, OutcomeRow } from "./schema.ts";
import { encodeShadow, type ShadowProbabilities } from "./shadow.ts";

/**
 * The decision log row's codec: every writer (the edge, the simulator, the OBD importer) builds its
 * row with {@link toDecisionRow}, and every reader takes the JSON-in-text columns apart with
 * {@link decisionColumns}, so that the row's spelling is decided here once.
 */
export interface LoggedDecision {
  id: string;
  /** Unix time, milliseconds. */
  ts: number;
  visitorHash: string;
  policyVersion: string;
  featureSpecHash: string;
  /** The catalogue the decision was made under: catalogueHash of its promotions. */
  catalogueHash: string;
  /** The raw context, kept so that a newer feature spec can re-encode the row. */
  context: object;
  features: ArrayLike<number>;
  stateKey: number;
  /** Ids of the actions that were eligible: the support of the logged propensity. */
  eligible: readonly string[];
  action: string;
  propensity: number;
  explored: boolean;
  /** The experiment and arm the visitor was in, or null outside any. */
  experiment: { id: string; arm: string } | null;
  /** What the experiment's shadow policy would have done, or null without one. */
  shadow: ShadowProbabilities | null;
}

export function toDecisionRow(d: LoggedDecision): DecisionRow {
  return {
    id: d.id,
    ts: d.ts,
    visitorHash: d.visitorHash,
    policyVersion: d.policyVersion,
    featureSpecHash: d.featureSpecHash,
    catalogueHash: d.catalogueHash,
    context: JSON.stringify(d.context),
    // Array.from copies: the edge's feature buffer is reused by the next decision.
    features: JSON.stringify(Array.from(d.features)),
    stateKey: d.stateKey,
    eligible: JSON.stringify(d.eligible),
    action: d.action,
    propensity: d.propensity,
    explored: d.explored,
    experimentId: d.experiment?.id ?? null,
    arm: d.experiment?.arm ?? null,
    shadow: d.shadow === null ? null : encodeShadow(d.shadow),
  };
}

/**
 * The JSON-in-text columns of a stored row, each parsed on demand (a reader often needs only one),
 * or undefined when the column does not hold what the writer writes.
 */
export const decisionColumns = {
  context(row: Pick<DecisionRow, "context">): object | undefined {
    const value = parseJson(row.context);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  },
  features(row: Pick<DecisionRow, "features">): number[] | undefined {
    const value = parseJson(row.features);
    return Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isFinite(v)) ? value : undefined;
  },
  eligible(row: Pick<DecisionRow, "eligible">): string[] | undefined {
    const value = parseJson(row.eligible);
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string") ? value : undefined;
  },
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Each decision's outcomes, by decision id. */
export function outcomesByDecision(outcomes: readonly OutcomeRow[]): Map<string, OutcomeRow[]> {
  const byDecision = new Map<string, OutcomeRow[]>();
  for (const outcome of outcomes) {
    const list = byDecision.get(outcome.decisionId);
    if (list) list.push(outcome);
    else byDecision.set(outcome.decisionId, [outcome]);
  }
  return byDecision;
}
