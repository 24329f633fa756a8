import { getTableColumns } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per decision the edge made. Written at least once, so inserts must be idempotent on `id`. */
export const decisions = sqliteTable(
  "decisions",
  {
    id: text("id").primaryKey(),
    /** Unix time, milliseconds. */
    ts: integer("ts").notNull(),
    /** HMAC of the visitor id: never the id itself. */
    visitorHash: text("visitor_hash").notNull(),
    policyVersion: text("policy_version").notNull(),
    featureSpecHash: text("feature_spec_hash").notNull(),
    /** Hash of the catalogue the decision was made under (shared/catalogue-document.ts); null in rows older than it. */
    catalogueHash: text("catalogue_hash"),
    /** The raw {@link Context} as JSON, so that a newer feature spec can re-encode the row. */
    context: text("context").notNull(),
    /** The encoded feature vector as a JSON array of numbers. */
    features: text("features").notNull(),
    stateKey: integer("state_key").notNull(),
    /** Action ids that were eligible, as a JSON array: the support of the logged propensity. */
    eligible: text("eligible").notNull(),
    action: text("action").notNull(),
    propensity: real("propensity").notNull(),
    explored: integer("explored", { mode: "boolean" }).notNull(),
    /** The experiment the visitor was in, and its arm; both null outside any (and in older rows). */
    experimentId: text("experiment_id"),
    arm: text("arm"),
    /** A shadow policy's probabilities at this decision (shared/shadow.ts), or null. */
    shadow: text("shadow"),
    /** Set once the row is in the R2 archive: only then may retention delete it from D1. */
    archived: integer("archived", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("decisions_visitor_ts").on(t.visitorHash, t.ts),
    index("decisions_ts").on(t.ts),
    index("decisions_experiment").on(t.experimentId, t.arm),
    index("decisions_archived_ts").on(t.archived, t.ts),
  ],
);

export const OUTCOME_KINDS = ["click", "conversion", "refund"] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

/** Outcomes reported later by the site. Unique per (decision, kind, event key): a retried report is stored once. */
export const outcomes = sqliteTable(
  "outcomes",
  {
    decisionId: text("decision_id").notNull(),
    ts: integer("ts").notNull(),
    kind: text("kind", { enum: OUTCOME_KINDS }).notNull(),
    /** Order value for a conversion, amount refunded for a refund; 0 for a click. */
    value: real("value").notNull(),
    /** The site's own id for the event (order id, say); empty when it sent none. */
    eventKey: text("event_key").notNull(),
    /** Set once the row is in the R2 archive: only then may retention delete it from D1. */
    archived: integer("archived", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.decisionId, t.kind, t.eventKey] }),
    index("outcomes_ts").on(t.ts),
    index("outcomes_archived_ts").on(t.archived, t.ts),
  ],
);

/** A table's columns but the archive's bookkeeping: what a log row is, to every reader. */
function logColumnsOf<T extends typeof decisions | typeof outcomes>(table: T) {
  const { archived: _archived, ...columns } = getTableColumns(table);
  return columns;
}
export const decisionLogColumns = logColumnsOf(decisions);
export const outcomeLogColumns = logColumnsOf(outcomes);

export type DecisionRow = typeof decisions.$inferInsert;
export type OutcomeRow = typeof outcomes.$inferInsert;

/** What travels on LOG_QUEUE: one decision or one outcome. */
export type LogMessage = { type: "decision"; row: DecisionRow } | { type: "outcome"; row: OutcomeRow };
