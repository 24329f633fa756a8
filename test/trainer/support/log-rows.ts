import { NEW_VISITOR, type Context } from "../../../shared/context.ts";
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE } from "../../../shared/catalogue.ts";
import { catalogueHash } from "../../../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey } from "../../../shared/features.ts";
import { toDecisionRow } from "../../../shared/log-row.ts";
import type { DecisionRow, OutcomeRow } from "../../../shared/schema.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A context every promotion of the default catalogue is eligible in. */
export const CART_CONTEXT: Context = {
  device: "mobile",
  country: "US",
  localHour: 10,
  weekday: 2,
  page: "cart",
  referrer: "direct",
  cartValue: 90,
  ...NEW_VISITOR,
};

/** A well-formed decision, encoded with the edge's current spec; override what a test is about. */
export function decisionRow(
  overrides: Partial<DecisionRow> & Pick<DecisionRow, "id" | "ts">,
  context: Context = CART_CONTEXT,
): DecisionRow {
  const row = toDecisionRow({
    id: overrides.id,
    ts: overrides.ts,
    visitorHash: "visitor-a",
    policyVersion: "v1",
    featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
    catalogueHash: catalogueHash(DEFAULT_CATALOGUE),
    context,
    features: encodeFeatures(DEFAULT_COMPILED_SPEC, context),
    stateKey: stateKey(DEFAULT_COMPILED_SPEC, context),
    eligible: DEFAULT_ACTION_IDS,
    action: "pct10",
    propensity: 0.25,
    explored: false,
    experiment: null,
    shadow: null,
  });
  return { ...row, ...overrides };
}

export function outcomeRow(overrides: Partial<OutcomeRow> & Pick<OutcomeRow, "decisionId" | "ts">): OutcomeRow {
  return { kind: "click", value: 0, eventKey: "", ...overrides };
}
