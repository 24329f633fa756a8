import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { catalogueHash } from "../../shared/catalogue-document.ts";
import { createDecisionEngine } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { decisionColumns, toDecisionRow } from "../../shared/log-row.ts";
import { decisions, outcomes, type DecisionRow, type LogMessage, type OutcomeRow } from "../../shared/schema.ts";
import { BASE_CONTEXT } from "./helpers.ts";

const db = () => drizzle(env.DB);
const unique = (label: string) => `${label}-${crypto.randomUUID()}`;

/** A decision row built the way the edge builds it: from a real decision. */
function decisionRow(id: string): DecisionRow {
  const d = createDecisionEngine(null, DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC).decide(BASE_CONTEXT, {}, id);
  return toDecisionRow({
    id,
    ts: 1_750_000_000_000,
    visitorHash: "hmac-of-visitor",
    policyVersion: "fallback",
    featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
    catalogueHash: catalogueHash(DEFAULT_CATALOGUE),
    context: BASE_CONTEXT,
    features: d.features,
    stateKey: d.stateKey,
    eligible: DEFAULT_CATALOGUE.filter((_, i) => d.eligible[i]).map((p) => p.id),
    action: d.promotion.id,
    propensity: d.propensity,
    explored: d.explored,
    experiment: null,
    shadow: null,
  });
}

describe("D1 schema (drizzle tables against the applied migrations)", () => {
  test("a decision row round trips, with its boolean and real columns typed", async () => {
    const row = decisionRow(unique("d"));
    await db().insert(decisions).values(row);
    const [back] = await db().select().from(decisions).where(eq(decisions.id, row.id));
    expect(back).toEqual({ ...row, archived: false });
    expect(typeof back!.explored).toBe("boolean");
    expect(JSON.parse(back!.context)).toEqual(BASE_CONTEXT);
  });

  test("a row written before the experiment and catalogue columns existed reads back with neither", async () => {
    const row = decisionRow(unique("d"));
    const { experimentId: _, arm: __, shadow: ___, ...old } = row;
    const columns = ["id", "ts", "visitor_hash", "policy_version", "feature_spec_hash", "context", "features"];
    await env.DB.prepare(
      `INSERT INTO decisions (${columns.join(", ")}, state_key, eligible, action, propensity, explored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(
        old.id,
        old.ts,
        old.visitorHash,
        old.policyVersion,
        old.featureSpecHash,
        old.context,
        old.features,
        old.stateKey,
        old.eligible,
        old.action,
        old.propensity,
        old.explored ? 1 : 0,
      )
      .run();
    const [back] = await db().select().from(decisions).where(eq(decisions.id, row.id));
    expect(back).toEqual({ ...row, catalogueHash: null, experimentId: null, arm: null, shadow: null, archived: false });
  });

  test("decision inserts are idempotent on id", async () => {
    const row = decisionRow(unique("d"));
    await db().insert(decisions).values(row);
    await db().insert(decisions).values(row).onConflictDoNothing();
    const rows = await db().select().from(decisions).where(eq(decisions.id, row.id));
    expect(rows).toHaveLength(1);
    await expect(db().insert(decisions).values(row)).rejects.toThrow();
  });

  test("outcomes are unique per (decision, kind, event key)", async () => {
    const decisionId = unique("d");
    const conversion: OutcomeRow = { decisionId, ts: 1, kind: "conversion", value: 42.5, eventKey: "order-1" };
    await db().insert(outcomes).values(conversion);
    await db()
      .insert(outcomes)
      .values({ ...conversion, ts: 2, value: 99 })
      .onConflictDoNothing(); // a retried report
    await db()
      .insert(outcomes)
      .values({ ...conversion, eventKey: "order-2" }); // another order
    await db()
      .insert(outcomes)
      .values({ ...conversion, kind: "refund", value: 10 }); // same order, other kind
    await db().insert(outcomes).values({ decisionId, ts: 3, kind: "click", value: 0, eventKey: "" });
    const rows = await db().select().from(outcomes).where(eq(outcomes.decisionId, decisionId));
    expect(rows).toHaveLength(4);
    const [first] = await db()
      .select()
      .from(outcomes)
      .where(
        and(eq(outcomes.decisionId, decisionId), eq(outcomes.kind, "conversion"), eq(outcomes.eventKey, "order-1")),
      );
    expect(first).toEqual({ ...conversion, archived: false });
  });

  test("a log message carries either kind of row", () => {
    const messages: LogMessage[] = [
      { type: "decision", row: decisionRow("x") },
      { type: "outcome", row: { decisionId: "x", ts: 1, kind: "click", value: 0, eventKey: "" } },
    ];
    // Queue messages are structured-cloned: nothing in a row may be lost on the way.
    expect(structuredClone(messages)).toEqual(messages);
  });
});

describe("the decision log-row codec", () => {
  test("every column the writer spells, the reader takes back", () => {
    const row = decisionRow("codec");
    expect(decisionColumns.context(row)).toEqual(BASE_CONTEXT);
    expect(decisionColumns.features(row)).toHaveLength(DEFAULT_COMPILED_SPEC.width);
    expect(decisionColumns.eligible(row)).toContain("none");
  });

  test("a column that does not hold what the writer writes reads as undefined", () => {
    expect(decisionColumns.context({ context: "[1]" })).toBeUndefined();
    expect(decisionColumns.features({ features: '[1, "x"]' })).toBeUndefined();
    expect(decisionColumns.eligible({ eligible: "[]" })).toBeUndefined();
    expect(decisionColumns.eligible({ eligible: "{" })).toBeUndefined();
  });
});
