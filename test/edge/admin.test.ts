import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { beforeEach, describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { EXPERIMENT_KEY } from "../../shared/experiment.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { decisions } from "../../shared/schema.ts";
import { dailySeries, type DashboardLogRow } from "../../edge/admin/daily-series.ts";
import { call, contextBody, decide, harness, publish, qtablePolicy, unpublish } from "./helpers.ts";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

beforeEach(async () => {
  await unpublish(env.POLICY);
  await env.POLICY.delete(EXPERIMENT_KEY);
});

describe("GET /admin", () => {
  test("without the admin token it is a 401 with a JSON body, and says how to authenticate", async () => {
    const h = harness();
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-0123456789" }];
    for (const headers of attempts) {
      const response = await call(h, new Request("https://promo.example/admin", { headers }));
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await response.json()).toMatchObject({ error: "admin_token_required" });
    }
  });

  test("shows the policy served, the running experiment with its arms, and the logs' plots", async () => {
    const h = harness();
    await publish(env.POLICY, qtablePolicy("admin-v1", "pct10"));
    await new ExperimentRegistry(env.POLICY).start({
      id: "admin-exp",
      startedAt: "2020-01-01T00:00:00.000Z",
      arms: [
        { name: "control", serves: { type: "control" }, weight: 1 },
        { name: "fixed5", serves: { type: "promotion", id: "fixed5" }, weight: 1 },
      ],
    });
    for (let i = 0; i < 6; i++) await decide(h, contextBody({ cartValue: 150 }));
    // One row per insert: six rows of every column pass D1's 100 bound parameters.
    for (const m of h.sent) if (m.type === "decision") await drizzle(env.DB).insert(decisions).values(m.row);

    const response = await call(h, new Request("https://promo.example/admin", { headers: ADMIN }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("admin-v1");
    expect(page).toContain("Running: <strong>admin-exp</strong>");
    expect(page).toMatch(/<th>control<\/th><td>\d+<\/td>/);
    expect(page).toContain('aria-label="Value per visitor per day, by arm or policy version"');
    expect(page).toContain('aria-label="promotion mix per day"');
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

test("daily series: visitors, decisions, exploration and value per day and series, outcomes counted once per kind", () => {
  const day = Date.UTC(2026, 10, 2, 10);
  const rows: DashboardLogRow[] = [
    {
      decisionId: "a",
      ts: day,
      visitorHash: "v1",
      series: "control",
      action: "none",
      explored: 0,
      kind: "conversion",
      value: 50,
    },
    {
      decisionId: "a",
      ts: day,
      visitorHash: "v1",
      series: "control",
      action: "none",
      explored: 0,
      kind: "click",
      value: 0,
    },
    {
      decisionId: "b",
      ts: day + 60_000,
      visitorHash: "v2",
      series: "control",
      action: "pct10",
      explored: 1,
      kind: null,
      value: null,
    },
    {
      decisionId: "c",
      ts: day + 86_400_000,
      visitorHash: "v1",
      series: "control",
      action: "none",
      explored: 0,
      kind: null,
      value: null,
    },
  ];
  expect(dailySeries(rows, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC)).toEqual([
    {
      day: "2026-11-02",
      series: "control",
      visitors: 2,
      decisions: 2,
      valuePerVisitor: (0.4 * 50 + DEFAULT_REWARD_SPEC.clickValue) / 2,
      exploredShare: 0.5,
      actions: { none: 1, pct10: 1 },
    },
    {
      day: "2026-11-03",
      series: "control",
      visitors: 1,
      decisions: 1,
      valuePerVisitor: 0,
      exploredShare: 0,
      actions: { none: 1 },
    },
  ]);
});
