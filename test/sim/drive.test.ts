import { describe, expect, test } from "vitest";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { driveWorker, USER_AGENTS } from "../../trainer/sim/drive.ts";

/**
 * A stand-in Worker: answers /v1/decide with "bundle" when the cart allows it and "none" otherwise,
 * keeps a page-view count in a cookie, and refuses every 10th outcome, so the driver's cookie jar,
 * request shapes and failure counting can be checked without a running Worker.
 */
function fakeWorker() {
  const seen = {
    decides: 0,
    outcomes: 0,
    cookieCounts: [] as number[],
    userAgents: new Set<string>(),
    bodies: [] as unknown[],
  };
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    if (url.pathname === "/v1/decide") {
      seen.decides++;
      seen.userAgents.add(headers.get("user-agent") ?? "");
      seen.bodies.push(body);
      const views = Number(/pv=(\d+)/.exec(headers.get("cookie") ?? "")?.[1] ?? 0);
      seen.cookieCounts.push(views);
      const context = body.context as { cartValue: number };
      const promotion = context.cartValue >= 30 ? "bundle" : "none";
      return new Response(
        JSON.stringify({
          decisionId: `d${seen.decides}`,
          promotion: { id: promotion, kind: promotion },
          propensity: 1,
          policyVersion: "fake",
          explored: false,
        }),
        {
          headers: { "content-type": "application/json", "set-cookie": `pv=${views + 1}; Path=/; HttpOnly` },
        },
      );
    }
    seen.outcomes++;
    if (seen.outcomes % 10 === 0) return new Response("no", { status: 503 });
    expect(body.decisionId).toMatch(/^d\d+$/);
    expect(["click", "conversion", "refund"]).toContain(body.kind);
    return new Response(null, { status: 202 });
  };
  return { fetchImpl, seen };
}

describe("driveWorker", () => {
  test("walks simulated visitors through the Worker's routes, with a cookie jar per visitor", async () => {
    const { fetchImpl, seen } = fakeWorker();
    const report = await driveWorker({
      target: "http://worker.test",
      seed: 4,
      visitors: 300,
      concurrency: 8,
      fetch: fetchImpl,
    });

    expect(report.decisions).toBe(seen.decides);
    expect(report.decisions).toBeGreaterThan(300);
    // Each visitor's cookie came back: its page views counted 0, 1, 2, ... on the Worker's side.
    expect(seen.cookieCounts.filter((n) => n === 0)).toHaveLength(300);
    expect(Math.max(...seen.cookieCounts)).toBeGreaterThan(2);
    expect([...seen.userAgents].every((ua) => Object.values(USER_AGENTS).includes(ua))).toBe(true);
    const context = (seen.bodies[0] as { context: Record<string, unknown> }).context;
    expect(Object.keys(context).sort()).toEqual([
      "cartValue",
      "country",
      "device",
      "localHour",
      "page",
      "referrer",
      "weekday",
    ]);

    expect(report.failures.outcome).toBe(Math.floor(seen.outcomes / 10));
    expect(report.failures.byStatus["503"]).toBe(report.failures.outcome);
    expect(report.outcomes + report.failures.outcome).toBe(seen.outcomes);
    expect(Object.keys(report.actions).sort()).toEqual(["bundle", "none"]);
    expect(report.policyVersions).toEqual({ fake: report.decisions });
    expect(report.valuePerVisitor).toBeGreaterThan(0);
  });

  test("counts an unreachable Worker instead of throwing", async () => {
    const refuse: typeof fetch = async () => {
      throw new TypeError("fetch failed");
    };
    const report = await driveWorker({
      target: "http://127.0.0.1:1",
      seed: 1,
      visitors: 5,
      fetch: refuse,
      model: DEFAULT_SIM_MODEL,
    });
    expect(report.decisions).toBe(0);
    expect(report.failures).toMatchObject({ decide: 5, byStatus: { network: 5 } });
  });
});
