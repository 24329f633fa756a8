import { describe, expect, test } from "vitest";
import { SIMULATED_TIME_HEADER } from "../../shared/simulated-clock.ts";
import { call, decide, harness, postJson, visitorOf } from "./helpers.ts";

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1, 12);
const at = (ms: number) => ({ headers: { [SIMULATED_TIME_HEADER]: String(ms) } });
const body = { context: { page: "home", cartValue: 10 } };

describe("the simulated clock", () => {
  test("is ignored unless the deployment allows it", async () => {
    const h = harness();
    const before = Date.now();
    const { row } = await decide(h, body, at(START));
    expect(row.ts).toBeGreaterThanOrEqual(before);
  });

  test("when allowed, moves the visitor's history and the logged time", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    const first = await decide(h, body, at(START));
    expect(first.row.ts).toBe(START);
    const second = await decide(h, body, { ...at(START + 3 * DAY), cookie: first.cookie });
    expect(second.row.ts).toBe(START + 3 * DAY);
    const context = JSON.parse(second.row.context) as { visits: number; daysSinceLastVisit: number | null };
    expect(context.visits).toBe(2);
    expect(context.daysSinceLastVisit).toBeCloseTo(3, 6);
    expect((await visitorOf(second.cookie))?.memory.lastSeen).toBe(START + 3 * DAY);
  });

  test("when allowed, decides the age of decision ids by it", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    const { answer, cookie } = await decide(h, body, at(START));
    const report = (ms: number) =>
      call(h, postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "click" }, { ...at(ms), cookie }));
    expect((await report(START + DAY)).status).toBe(202);
    expect((await report(START + 8 * DAY)).status).toBe(410);
  });

  test("a malformed time is a 400 that names the header", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    const response = await call(h, postJson("/v1/decide", body, { headers: { [SIMULATED_TIME_HEADER]: "yesterday" } }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_simulated_time" });
  });
});
