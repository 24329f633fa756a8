import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { NEW_PROMOTION } from "../../trainer/sim/model.ts";
import { DEFAULT_CATALOGUE, type Catalogue } from "../../shared/catalogue.ts";
import { CATALOGUE_KEY, catalogueHash } from "../../shared/catalogue-document.ts";
import type { DecisionRow } from "../../shared/schema.ts";
import { featuresPolicy } from "../shared/helpers.ts";
import {
  call,
  contextBody,
  decide,
  drain,
  harness,
  postJson,
  publish,
  qtablePolicy,
  unpublish,
  type Harness,
} from "./helpers.ts";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

const pct15 = NEW_PROMOTION.promotion;
/** This week's catalogue: pct20 withdrawn, pct15 added. */
const thisWeek: Catalogue = [...DEFAULT_CATALOGUE.filter((p) => p.id !== "pct20"), pct15];

async function publishCatalogue(promotions: Catalogue, newPromotions?: { share: number; untilDecisions: number }) {
  await env.POLICY.put(CATALOGUE_KEY, JSON.stringify({ promotions, ...(newPromotions ? { newPromotions } : {}) }));
}

async function policyStatus(h: Harness) {
  const response = await call(h, new Request("https://promo.example/v1/policy", { headers: ADMIN }));
  expect(response.status).toBe(200);
  return response.json<{ version: string; lastError: string | null; catalogue: Record<string, unknown> }>();
}

/** Decisions of `n` page views by new visitors, as D1 stored them. */
async function storedDecisions(h: Harness, n: number): Promise<DecisionRow[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await decide(h, contextBody({ cartValue: 150 }))).answer.decisionId);
  expect((await drain(h)).ackAll).toBe(true);
  const rows: DecisionRow[] = [];
  for (const id of ids) {
    const row = await env.DB.prepare(
      "SELECT id, action, propensity, policy_version AS policyVersion, catalogue_hash AS catalogueHash, eligible FROM decisions WHERE id = ?",
    )
      .bind(id)
      .first<DecisionRow>();
    if (row) rows.push(row);
  }
  return rows;
}

beforeEach(async () => {
  await unpublish(env.POLICY);
  await env.POLICY.delete(CATALOGUE_KEY);
  vi.restoreAllMocks();
});
afterEach(() => env.POLICY.delete(CATALOGUE_KEY));

describe("the catalogue, as the operator publishes it", () => {
  test("with none in KV the built-in one serves, and every decision logs its hash", async () => {
    const h = harness();
    const rows = await storedDecisions(h, 5);
    expect(rows.map((r) => r.catalogueHash)).toEqual(Array(5).fill(catalogueHash(DEFAULT_CATALOGUE)));
    expect((await policyStatus(h)).catalogue).toMatchObject({
      source: "built-in",
      hash: catalogueHash(DEFAULT_CATALOGUE),
      promotions: DEFAULT_CATALOGUE.map((p) => p.id),
    });
  });

  test("a features policy serves a changed catalogue without retraining: the new promotion explored, the withdrawn one never shown", async () => {
    const h = harness();
    const policy = featuresPolicy(
      4,
      {},
      { version: "features-v1", exploration: { type: "epsilon", epsilon: 0.05, floor: 0 } },
    );
    await publish(env.POLICY, policy);
    await publishCatalogue(thisWeek, { share: 0.2, untilDecisions: 1000 });

    const status = await policyStatus(h);
    expect(status).toMatchObject({ version: "features-v1", lastError: null });
    expect(status.catalogue).toMatchObject({ source: "kv", hash: catalogueHash(thisWeek), newPromotions: ["pct15"] });

    const rows = await storedDecisions(h, 120);
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.policyVersion))).toEqual(new Set(["features-v1"]));
    expect(new Set(rows.map((r) => r.catalogueHash))).toEqual(new Set([catalogueHash(thisWeek)]));
    expect(rows.some((r) => r.action === "pct20")).toBe(false);
    expect(rows.every((r) => !JSON.parse(r.eligible).includes("pct20"))).toBe(true);
    // pct15 gets at least the new-promotion share on every page view (it is eligible on all of them).
    const shown = rows.filter((r) => r.action === "pct15");
    expect(shown.length).toBeGreaterThan(0);
    for (const row of shown) expect(row.propensity).toBeGreaterThanOrEqual(0.2);
  });

  test("a per-action policy cannot serve a changed catalogue: the control serves, and the reason is reported", async () => {
    const h = harness();
    await publish(env.POLICY, qtablePolicy("qtable-v1", "bundle"));
    expect((await decide(h, contextBody({ cartValue: 150 }))).answer.policyVersion).toBe("qtable-v1");
    vi.spyOn(console, "error").mockImplementation(() => {});
    await publishCatalogue(thisWeek);

    const { answer } = await decide(h, contextBody({ cartValue: 150 }));
    expect(answer.policyVersion).toBe("fallback");
    const status = await policyStatus(h);
    expect(status.lastError).toMatch(/action_mismatch/);
    const health = await (await call(h, new Request("https://promo.example/healthz"))).json<{ status: string }>();
    expect(health.status).toBe("degraded");
  });

  test("a malformed catalogue is refused with its reason, and the last good one keeps serving", async () => {
    const h = harness();
    await publishCatalogue(thisWeek);
    expect((await policyStatus(h)).catalogue).toMatchObject({ hash: catalogueHash(thisWeek) });
    await env.POLICY.put(CATALOGUE_KEY, JSON.stringify({ promotions: [pct15] }));
    const status = await policyStatus(h);
    expect(status.catalogue).toMatchObject({ hash: catalogueHash(thisWeek) });
    expect(status.lastError).toMatch(/catalogue\/current: promotions: the first promotion must be of kind "none"/);
  });

  test("candidates are checked against the served catalogue", async () => {
    const h = harness();
    await publishCatalogue(thisWeek);
    const refused = await call(h, postJson("/v1/decide", contextBody({}, ["none", "pct20"])));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "unknown_promotion", field: "candidates[1]" });
    const accepted = await decide(h, contextBody({ cartValue: 150 }, ["pct15"]));
    expect(["none", "pct15"]).toContain(accepted.answer.promotion.id);
  });
});
