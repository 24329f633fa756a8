import type { Context } from "../../../shared/context.ts";
import type { DecisionRow, OutcomeRow } from "../../../shared/schema.ts";
import { DEFAULT_ENCODER } from "../../../trainer/data/encoders.ts";
import { CART_CONTEXT, DAY, HOUR, decisionRow, outcomeRow } from "./log-rows.ts";

/**
 * Logs with one row for every way a decision or an outcome can be unusable, next to usable ones: a
 * dataset builder must turn them into known steps and count the rest by reason.
 */
export const NOW = Date.UTC(2026, 0, 31);

export const HOME_CONTEXT: Context = {
  ...CART_CONTEXT,
  device: "desktop",
  page: "home",
  cartValue: 0,
  visits: 3,
  daysSinceLastVisit: 2,
};

export const a1 = decisionRow({ id: "a1", ts: NOW - 20 * DAY, action: "pct10" });
export const a2 = decisionRow({ id: "a2", ts: a1.ts + HOUR, action: "fixed5" });
export const a3 = decisionRow({ id: "a3", ts: a2.ts + 8 * DAY, action: "fixed5" });
export const b1 = decisionRow({ id: "b1", visitorHash: "visitor-b", ts: NOW - 8 * DAY });
export const b2 = decisionRow({ id: "b2", visitorHash: "visitor-b", ts: NOW - 2 * DAY });
export const c1 = decisionRow({ id: "c1", visitorHash: "visitor-c", ts: NOW - 15 * DAY });
export const c2 = decisionRow({
  id: "c2",
  visitorHash: "visitor-c",
  ts: c1.ts + HOUR,
  featureSpecHash: "old-spec",
  context: "{not json",
});
export const d1 = decisionRow(
  {
    id: "d1",
    visitorHash: "visitor-d",
    ts: NOW - 10 * DAY,
    featureSpecHash: "old-spec",
    features: "[1,2,3]",
    stateKey: 9999,
  },
  HOME_CONTEXT,
);
export const storedFeatures = new Array<number>(DEFAULT_ENCODER.width).fill(0.5);
export const e1 = decisionRow({
  id: "e1",
  visitorHash: "visitor-e",
  ts: NOW - 10 * DAY,
  features: JSON.stringify(storedFeatures),
  stateKey: 3,
});

/** One row per reason a decision cannot be used. */
export const unusable: Record<string, DecisionRow[]> = {
  "decision:duplicate-id": [decisionRow({ id: "a1", ts: NOW - 19 * DAY, action: "gift" })],
  "decision:bad-context-json": [c2],
  "decision:context-invalid": [
    decisionRow({
      id: "x-schema",
      visitorHash: "x",
      ts: NOW - 9 * DAY,
      featureSpecHash: "old-spec",
      context: '{"device":"toaster"}',
    }),
  ],
  "decision:unknown-action": [decisionRow({ id: "x-action", visitorHash: "x", ts: NOW - 9 * DAY, action: "pct99" })],
  "decision:propensity-out-of-range": [
    decisionRow({ id: "x-p0", visitorHash: "x", ts: NOW - 9 * DAY, propensity: 0 }),
    decisionRow({ id: "x-p15", visitorHash: "x", ts: NOW - 9 * DAY, propensity: 1.5 }),
  ],
  "decision:action-not-eligible": [
    decisionRow({ id: "x-inel", visitorHash: "x", ts: NOW - 9 * DAY, action: "gift", eligible: '["none","pct10"]' }),
  ],
  "decision:unknown-eligible-action": [
    decisionRow({ id: "x-unel", visitorHash: "x", ts: NOW - 9 * DAY, eligible: '["none","pct10","retired"]' }),
  ],
  "decision:bad-stored-features": [
    decisionRow({ id: "x-feat", visitorHash: "x", ts: NOW - 9 * DAY, features: "[1,2]" }),
  ],
  "decision:bad-stored-state-key": [
    decisionRow({ id: "x-key", visitorHash: "x", ts: NOW - 9 * DAY, stateKey: DEFAULT_ENCODER.stateCount }),
  ],
  "decision:missing-visitor": [decisionRow({ id: "x-visitor", visitorHash: "", ts: NOW - 9 * DAY })],
};

export const attributed: OutcomeRow[] = [
  outcomeRow({ decisionId: "a1", ts: a1.ts + HOUR, kind: "click" }),
  outcomeRow({ decisionId: "a1", ts: a1.ts + 2 * DAY, kind: "conversion", value: 100, eventKey: "order-1" }),
  // Exactly at the end of the 7-day window: still in.
  outcomeRow({ decisionId: "a1", ts: a1.ts + 7 * DAY, kind: "conversion", value: 10, eventKey: "order-2" }),
  outcomeRow({ decisionId: "a1", ts: a1.ts + 6 * DAY, kind: "refund", value: 20, eventKey: "order-1" }),
  outcomeRow({ decisionId: "a3", ts: a3.ts + DAY, kind: "conversion", value: 100, eventKey: "order-3" }),
  // For a held-back decision: waits with it, neither credited nor skipped.
  outcomeRow({ decisionId: "b2", ts: b2.ts + HOUR }),
];
export const unattributable: Record<string, OutcomeRow[]> = {
  "outcome:outside-window": [
    outcomeRow({ decisionId: "a1", ts: a1.ts + 7 * DAY + 1, kind: "conversion", value: 50, eventKey: "late" }),
    outcomeRow({ decisionId: "a1", ts: a1.ts - 1, eventKey: "early" }),
  ],
  "outcome:without-decision": [outcomeRow({ decisionId: "ghost", ts: NOW - DAY })],
  "outcome:decision-unusable": [outcomeRow({ decisionId: "x-action", ts: NOW - 9 * DAY + HOUR })],
  "outcome:bad-value": [outcomeRow({ decisionId: "a2", ts: a2.ts + HOUR, kind: "conversion", value: -5 })],
  "outcome:duplicate": [outcomeRow({ decisionId: "a1", ts: a1.ts + 2 * HOUR, kind: "click" })],
};

/** Every decision of the fixture, in no particular order. */
export const FIXTURE_DECISIONS: readonly DecisionRow[] = [
  a1,
  a2,
  a3,
  b1,
  b2,
  c1,
  c2,
  d1,
  e1,
  ...Object.values(unusable)
    .flat()
    .filter((row) => row !== c2),
];

/** Every outcome of the fixture. */
export const FIXTURE_OUTCOMES: readonly OutcomeRow[] = [...attributed, ...Object.values(unattributable).flat()];
