import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { THROTTLES_KEY } from "../../shared/budget.ts";
import { DEFAULT_CATALOGUE, type Catalogue, type Promotion } from "../../shared/catalogue.ts";
import { CATALOGUE_KEY } from "../../shared/catalogue-document.ts";
import { SIMULATED_TIME_HEADER } from "../../shared/simulated-clock.ts";
import { BUDGET_CRON } from "../../edge/worker.ts";
import {
  call,
  contextBody,
  drain,
  harness,
  postJson,
  publish,
  qtablePolicy,
  unpublish,
  type Harness,
} from "./helpers.ts";

function withRules(id: string, eligibility: Partial<Promotion["eligibility"]>): Catalogue {
  return DEFAULT_CATALOGUE.map((p) => (p.id === id ? { ...p, eligibility: { ...p.eligibility, ...eligibility } } : p));
}

async function publishCatalogue(promotions: Catalogue) {
  await env.POLICY.put(CATALOGUE_KEY, JSON.stringify({ promotions }));
}

/** The promotion served at `at` (simulated clock) to a page that has room for `candidates` only. */
async function servedAt(h: Harness, at: number, candidates: string[]): Promise<{ id: string; eligible: string[] }> {
  const request = postJson("/v1/decide", contextBody({ cartValue: 150 }, candidates));
  request.headers.set(SIMULATED_TIME_HEADER, String(at));
  const response = await call(h, request);
  expect(response.status).toBe(200);
  const sent = h.sent.at(-1);
  if (sent?.type !== "decision") throw new Error("no decision logged");
  return {
    id: (await response.json<{ promotion: { id: string } }>()).promotion.id,
    eligible: JSON.parse(sent.row.eligible),
  };
}

beforeEach(async () => {
  await unpublish(env.POLICY);
  await env.POLICY.delete(CATALOGUE_KEY);
  await env.POLICY.delete(THROTTLES_KEY);
  vi.restoreAllMocks();
});
afterEach(async () => {
  await env.POLICY.delete(CATALOGUE_KEY);
  await env.POLICY.delete(THROTTLES_KEY);
});

describe("campaign windows", () => {
  test("a promotion is eligible only inside its window, read in the shop's time zone", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    // Black Friday in Paris: from 2026-11-27 00:00 to 2026-11-28 00:00 local time (UTC+1 in November).
    await publishCatalogue(
      withRules("pct20", { window: { start: "2026-11-27T00:00", end: "2026-11-28T00:00", timeZone: "Europe/Paris" } }),
    );
    await publish(env.POLICY, qtablePolicy("favours-pct20", "pct20"));
    const at = (iso: string) => Date.parse(iso);
    const cases: [string, boolean][] = [
      ["2026-11-26T22:59:59Z", false], // 23:59:59 in Paris, the day before
      ["2026-11-26T23:00:00Z", true], // midnight in Paris: the window opens
      ["2026-11-27T12:00:00Z", true],
      ["2026-11-27T22:59:59Z", true],
      ["2026-11-27T23:00:00Z", false], // midnight again: closed
    ];
    for (const [iso, open] of cases) {
      const { id, eligible } = await servedAt(h, at(iso), ["pct20"]);
      expect(eligible.includes("pct20"), iso).toBe(open);
      if (!open) expect(id, iso).toBe("none");
    }
  });

  test("a window that ends before it starts, or names no real zone, is refused with its reason", async () => {
    const h = harness();
    vi.spyOn(console, "error").mockImplementation(() => {});
    await publishCatalogue(
      withRules("pct20", { window: { start: "2026-11-28T00:00", end: "2026-11-27T00:00", timeZone: "Europe/Paris" } }),
    );
    const status = async () =>
      (
        await call(
          h,
          new Request("https://promo.example/v1/policy", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
        )
      ).json<{ lastError: string | null }>();
    expect((await status()).lastError).toMatch(
      /promotions\.2\.eligibility\.window: the window must start before it ends/,
    );
    await publishCatalogue(withRules("pct20", { window: { end: "2026-11-27T00:00", timeZone: "Mars/Olympus" } }));
    expect((await status()).lastError).toMatch(/eligibility\.window\.timeZone: an IANA time zone/);
  });
});

describe("daily budgets", () => {
  test("the monitor throttles a promotion that used its budget; the edge stops showing it until the shop's midnight", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    const budget = 20;
    await publishCatalogue(withRules("pct10", { dailyBudget: { exposures: budget, timeZone: "UTC" } }));
    await publish(env.POLICY, qtablePolicy("favours-pct10", "pct10"));
    const morning = Date.parse("2026-12-01T09:00:00Z");

    // Traffic until the monitor's next run: more page views than the budget allows.
    let shown = 0;
    for (let i = 0; i < 30; i++) if ((await servedAt(h, morning + i * 1000, ["pct10"])).id === "pct10") shown++;
    expect(shown).toBeGreaterThan(budget);
    expect((await drain(h)).ackAll).toBe(true);

    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    await h.worker.scheduled(createScheduledController({ scheduledTime: morning + 60_000, cron: BUDGET_CRON }), h.env);
    expect(logs.mock.calls.flat().join("\n")).toMatch(/budget monitor: 1 budgeted, throttled: pct10/);

    const status = await call(
      h,
      new Request("https://promo.example/v1/policy", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
    );
    expect((await status.json<{ catalogue: { throttles: Record<string, unknown> } }>()).catalogue.throttles).toEqual({
      pct10: { until: Date.parse("2026-12-02T00:00:00Z"), reason: expect.stringMatching(/exposures of 20$/) },
    });

    // Once throttled: never shown again that day, and not even offered to the policy.
    for (let i = 0; i < 40; i++) {
      const { id, eligible } = await servedAt(h, morning + 120_000 + i * 1000, ["pct10"]);
      expect(id).toBe("none");
      expect(eligible).toEqual(["none"]);
    }
    // The overshoot is what was served before the monitor looked, and nothing after.
    const { results } = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM decisions WHERE action = 'pct10' AND ts >= ? AND ts < ?",
    )
      .bind(Date.parse("2026-12-01T00:00:00Z"), Date.parse("2026-12-02T00:00:00Z"))
      .all<{ n: number }>();
    await drain(h);
    expect(results[0]!.n).toBe(shown);

    // After midnight the throttle has lapsed, before the monitor runs again.
    const tomorrow = Date.parse("2026-12-02T00:00:01Z");
    expect((await servedAt(h, tomorrow, ["pct10"])).eligible).toContain("pct10");
  });

  test("the minute trigger runs only the policy check and the budget monitor", async () => {
    const h = harness();
    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    await h.worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: BUDGET_CRON }), h.env);
    const lines = logs.mock.calls.map((c) => String(c[0]));
    expect(lines.map((l) => l.split(":")[0])).toEqual(["scheduled policy check", "scheduled budget monitor"]);
    expect(lines[1]).toContain("no budgeted promotion");
  });
});
