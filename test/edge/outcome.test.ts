import { env } from "cloudflare:workers";
import { describe, expect, test } from "vitest";
import { signingKey } from "../../edge/crypto.ts";
import { CLOCK_SKEW_MS, mintDecisionId } from "../../edge/decision-id.ts";
import { call, contextBody, decide, drain, harness, postJson, visitorOf, type RequestOptions } from "./helpers.ts";

const DAY_MS = 86_400_000;
/** The shop's server, reporting with the API key and no cookie. */
const SERVER = { headers: { authorization: `Bearer ${env.OUTCOME_API_KEY}` } };
/** Some visitor's hash: what a decision id is bound to. */
const SOMEONE = new Uint8Array(32).fill(7);

async function outcomeRows(decisionId: string) {
  const { results } = await env.DB.prepare(
    "select kind, value, event_key as eventKey from outcomes where decision_id = ? order by kind, event_key",
  )
    .bind(decisionId)
    .all<{ kind: string; value: number; eventKey: string }>();
  return results;
}

describe("POST /v1/outcome", () => {
  test("accepts an outcome of an issued decision with 202 and stores it through the queue", async () => {
    const h = harness();
    const { answer, cookie } = await decide(h, contextBody());
    const response = await call(
      h,
      postJson(
        "/v1/outcome",
        { decisionId: answer.decisionId, kind: "conversion", value: 84.5, eventKey: "order-1" },
        { cookie },
      ),
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: true, decisionId: answer.decisionId, kind: "conversion" });

    expect(await drain(h)).toMatchObject({ ackAll: true, retryMessages: [], retryBatch: { retry: false } });
    expect(await outcomeRows(answer.decisionId)).toEqual([{ kind: "conversion", value: 84.5, eventKey: "order-1" }]);
    const row = await env.DB.prepare("select ts from outcomes where decision_id = ?")
      .bind(answer.decisionId)
      .first<{ ts: number }>();
    expect(Math.abs(row!.ts - Date.now())).toBeLessThan(60_000);
  });

  test("a click needs no value; a conversion or a refund must carry one", async () => {
    const h = harness();
    const { answer, cookie } = await decide(h, contextBody());
    expect(
      (await call(h, postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "click" }, { cookie }))).status,
    ).toBe(202);
    for (const kind of ["conversion", "refund"]) {
      const response = await call(h, postJson("/v1/outcome", { decisionId: answer.decisionId, kind }, { cookie }));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_body", field: "value" });
    }
    const negative = await call(
      h,
      postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "refund", value: -3 }, { cookie }),
    );
    expect(await negative.json()).toMatchObject({ error: "invalid_body", field: "value" });
    const unknownKind = await call(
      h,
      postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "view" }, { cookie }),
    );
    expect(await unknownKind.json()).toMatchObject({ error: "invalid_body", field: "kind" });

    await drain(h);
    expect(await outcomeRows(answer.decisionId)).toEqual([{ kind: "click", value: 0, eventKey: "" }]);
  });

  test("an event key is bounded to letters, digits and . _ : -, and anything else is a JSON 400", async () => {
    const h = harness();
    const { answer, cookie } = await decide(h, contextBody());
    for (const eventKey of ["", "a b", "jane@example.com", "x".repeat(129), "ordre-é", "k\n1"]) {
      const response = await call(
        h,
        postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "click", eventKey }),
      );
      expect({ eventKey, status: response.status }).toEqual({ eventKey, status: 400 });
      expect(await response.json()).toMatchObject({ error: expect.any(String), field: "eventKey" });
    }
    const ok = await call(
      h,
      postJson(
        "/v1/outcome",
        { decisionId: answer.decisionId, kind: "click", eventKey: "ord:2026-11_30.x" },
        { cookie },
      ),
    );
    expect(ok.status).toBe(202);
  });

  test("a duplicate outcome is stored once; another event key is another outcome", async () => {
    const h = harness();
    const { answer, cookie } = await decide(h, contextBody());
    const report = (eventKey: string, value: number) =>
      call(
        h,
        postJson("/v1/outcome", { decisionId: answer.decisionId, kind: "conversion", value, eventKey }, { cookie }),
      );
    expect((await report("order-7", 40)).status).toBe(202);
    expect((await report("order-7", 40)).status).toBe(202);
    await drain(h);
    // The retry arrives in a later batch, as a redelivery would.
    expect((await report("order-7", 40)).status).toBe(202);
    expect((await report("order-8", 15)).status).toBe(202);
    await drain(h);
    expect(await outcomeRows(answer.decisionId)).toEqual([
      { kind: "conversion", value: 40, eventKey: "order-7" },
      { kind: "conversion", value: 15, eventKey: "order-8" },
    ]);
  });

  test("refuses forged, malformed, expired and future decision ids", async () => {
    const h = harness({ DECISION_MAX_AGE_SECONDS: String(7 * 86_400) });
    const { answer, cookie } = await decide(h, contextBody());
    const key = await signingKey(env.DECISION_SIGNING_KEY);
    const otherKey = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("another-key-0123456789abcdef"),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const [ts, random, binding, tag] = answer.decisionId.split(".");
    const flipped = tag!.startsWith("A") ? `B${tag!.slice(1)}` : `A${tag!.slice(1)}`;
    // The same tag bytes, spelt with other values in the last character's unused low bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unused = tag!.length % 4 === 2 ? 15 : tag!.length % 4 === 3 ? 3 : 0;
    const respelt = Array.from(
      { length: unused },
      (_, i) => `${ts}.${random}.${binding}.${tag!.slice(0, -1)}${alphabet[alphabet.indexOf(tag!.at(-1)!) ^ (i + 1)]}`,
    );

    expect(respelt.length).toBeGreaterThan(0);
    const cases: [string, number, string][] = [
      [`${ts}.${random}.${binding}.${flipped}`, 403, "forged_decision_id"],
      [`${(Number.parseInt(ts!, 36) - 1).toString(36)}.${random}.${binding}.${tag}`, 403, "forged_decision_id"],
      [`${ts}.${random}.AAAAAAAAAAA.${tag}`, 403, "forged_decision_id"],
      [await mintDecisionId(otherKey, Date.now(), SOMEONE), 403, "forged_decision_id"],
      ...respelt.map((id): [string, number, string] => [id, 400, "invalid_decision_id"]),
      ["not-a-decision-id", 400, "invalid_decision_id"],
      [`${ts}.${random}.${tag}`, 400, "invalid_decision_id"],
      [await mintDecisionId(key, Date.now() - 8 * DAY_MS, SOMEONE), 410, "decision_expired"],
      [await mintDecisionId(key, Date.now() + CLOCK_SKEW_MS + 60_000, SOMEONE), 400, "decision_from_future"],
    ];
    for (const [decisionId, status, error] of cases) {
      const response = await call(h, postJson("/v1/outcome", { decisionId, kind: "click" }, { cookie }));
      expect({ decisionId, status: response.status }).toEqual({ decisionId, status });
      expect(await response.json()).toMatchObject({ error, field: "decisionId" });
    }
    // Within the window, and within the clock skew, ids are accepted.
    for (const issuedAt of [Date.now() - 6 * DAY_MS, Date.now() + CLOCK_SKEW_MS / 2]) {
      const response = await call(
        h,
        postJson("/v1/outcome", { decisionId: await mintDecisionId(key, issuedAt, SOMEONE), kind: "click" }, SERVER),
      );
      expect(response.status).toBe(202);
    }
    expect(h.sent.filter((m) => m.type === "outcome")).toHaveLength(2);
  });

  test("the age limit follows DECISION_MAX_AGE_SECONDS", async () => {
    const h = harness({ DECISION_MAX_AGE_SECONDS: "60" });
    const key = await signingKey(env.DECISION_SIGNING_KEY);
    const response = await call(
      h,
      postJson(
        "/v1/outcome",
        { decisionId: await mintDecisionId(key, Date.now() - 120_000, SOMEONE), kind: "click" },
        SERVER,
      ),
    );
    expect(response.status).toBe(410);
  });

  test("a conversion with the visitor cookie counts a purchase in the cookie, which the next decision sees", async () => {
    const h = harness();
    const first = await decide(h, contextBody());
    const response = await call(
      h,
      postJson(
        "/v1/outcome",
        { decisionId: first.answer.decisionId, kind: "conversion", value: 30, eventKey: "o-1" },
        { cookie: first.cookie },
      ),
    );
    expect(response.status).toBe(202);
    const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
    expect((await visitorOf(cookie))!.memory.purchases).toBe(1);

    const next = await decide(h, contextBody(), { cookie });
    const context = JSON.parse(next.row.context);
    expect(context.purchases).toBe(1);
    expect(context.daysSinceLastPurchase).toBeLessThan(0.001);

    const click = await call(
      h,
      postJson("/v1/outcome", { decisionId: first.answer.decisionId, kind: "click" }, { cookie }),
    );
    expect(click.headers.get("set-cookie")).toBeNull();
  });

  test("anyone else holding a decision id cannot report on it: another visitor's cookie, no cookie, or a wrong API key", async () => {
    const h = harness();
    const mine = await decide(h, contextBody());
    const theirs = await decide(h, contextBody());
    const body = { decisionId: mine.answer.decisionId, kind: "conversion", value: 1e5, eventKey: "k1" };
    const refused: [RequestOptions, number, string][] = [
      [{ cookie: theirs.cookie }, 403, "visitor_mismatch"],
      [{}, 403, "visitor_required"],
      [{ headers: { authorization: "Bearer not-the-key" } }, 401, "invalid_api_key"],
      [{ headers: { authorization: `Basic ${env.OUTCOME_API_KEY}` } }, 401, "invalid_api_key"],
    ];
    for (const [options, status, error] of refused) {
      const response = await call(h, postJson("/v1/outcome", body, options));
      expect({ error, status: response.status }).toEqual({ error, status });
      expect(await response.json()).toMatchObject({ error });
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    expect(h.sent.filter((m) => m.type === "outcome")).toHaveLength(0);

    // The shop's server may report without the cookie, and that moves no visitor's purchase count.
    const server = await call(h, postJson("/v1/outcome", body, SERVER));
    expect(server.status).toBe(202);
    expect(server.headers.get("set-cookie")).toBeNull();
    expect(h.sent.filter((m) => m.type === "outcome")).toHaveLength(1);
  });

  test("a value above MAX_OUTCOME_VALUE is refused with a JSON 400, not stored", async () => {
    const h = harness({ MAX_OUTCOME_VALUE: "500" });
    const { answer, cookie } = await decide(h, contextBody());
    const report = (value: number) =>
      call(
        h,
        postJson(
          "/v1/outcome",
          { decisionId: answer.decisionId, kind: "conversion", value, eventKey: "v" },
          { cookie },
        ),
      );
    const tooMuch = await report(500.01);
    expect(tooMuch.status).toBe(400);
    expect(await tooMuch.json()).toMatchObject({ error: "value_too_large", field: "value" });
    expect((await report(500)).status).toBe(202);
    expect(h.sent.filter((m) => m.type === "outcome")).toHaveLength(1);
  });
});
