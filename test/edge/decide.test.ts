import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { contextSchema } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey } from "../../shared/features.ts";
import { VISITOR_COOKIE } from "../../edge/visitor-cookie.ts";
import { signingKey, toHex } from "../../edge/crypto.ts";
import { hmac } from "../../shared/hmac.ts";
import { controlPropensity } from "../shared/helpers.ts";
import {
  call,
  contextBody,
  decide,
  harness,
  postJson,
  publish,
  qtablePolicy,
  unpublish,
  visitorOf,
} from "./helpers.ts";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

beforeEach(() => unpublish(env.POLICY));

describe("POST /v1/decide", () => {
  test("answers a promotion with its propensity, a signed decision id and a visitor cookie", async () => {
    const h = harness();
    const response = await call(h, postJson("/v1/decide", contextBody()));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const answer = await response.json<Record<string, unknown>>();
    expect(answer).toMatchObject({ policyVersion: "fallback" });
    const served = (answer.promotion as { id: string }).id;
    expect(answer.propensity).toBeCloseTo(controlPropensity(served, 7), 12);
    expect(answer.decisionId).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}$/);
    expect(answer.promotion).toHaveProperty("headline");
    expect(answer.promotion).toHaveProperty("kind");

    const setCookie = response.headers.get("set-cookie")!;
    expect(setCookie).toMatch(new RegExp(`^${VISITOR_COOKIE}=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43};`));
    for (const attribute of ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=31536000"])
      expect(setCookie).toContain(attribute);
  });

  test("builds the context from the request: User-Agent, cf country and time zone, Referer", async () => {
    const h = harness();
    const now = Date.now();
    const { row } = await decide(
      h,
      { context: { page: "product", cartValue: 25 } },
      {
        headers: { "user-agent": IPHONE, referer: "https://shop.example/landing?utm_source=google&utm_medium=cpc" },
        cf: { country: "DE", timezone: "Asia/Tokyo" },
      },
    );
    const context = contextSchema.parse(JSON.parse(row.context));
    const tokyo = new Date(now + 9 * 3_600_000);
    expect(context).toMatchObject({
      device: "mobile",
      country: "DE",
      referrer: "paid",
      page: "product",
      cartValue: 25,
      localHour: tokyo.getUTCHours(),
      weekday: tokyo.getUTCDay(),
      visits: 1,
      purchases: 0,
      promosSeen7d: 0,
      lastPromotion: null,
    });
    // The log keeps the coarse context and its encoding, never the raw headers.
    expect(row.context).not.toContain("iPhone");
    expect(JSON.parse(row.features)).toEqual(Array.from(encodeFeatures(DEFAULT_COMPILED_SPEC, context)));
    expect(row.stateKey).toBe(stateKey(DEFAULT_COMPILED_SPEC, context));
  });

  test("lets the body override what the request says, and falls back to UTC and an unknown country", async () => {
    const h = harness();
    const overridden = await decide(
      h,
      {
        context: {
          page: "home",
          cartValue: 0,
          device: "tablet",
          country: "fr",
          timezone: "UTC",
          referrer: "https://www.google.com/",
        },
      },
      { headers: { "user-agent": IPHONE }, cf: { country: "DE", timezone: "Asia/Tokyo" } },
    );
    expect(JSON.parse(overridden.row.context)).toMatchObject({
      device: "tablet",
      country: "FR",
      referrer: "search",
      localHour: new Date().getUTCHours(),
    });

    const bare = await decide(h, {
      context: { page: "home", cartValue: 0, referrer: "email", localHour: 7, weekday: 3 },
    });
    expect(JSON.parse(bare.row.context)).toMatchObject({
      device: "other",
      country: "ZZ",
      referrer: "email",
      localHour: 7,
      weekday: 3,
    });
  });

  test("logs the visitor as an HMAC, not as the id in the cookie", async () => {
    const h = harness();
    const { cookie, row } = await decide(h, contextBody());
    const visitor = (await visitorOf(cookie))!;
    expect(row.visitorHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.visitorHash).not.toContain(visitor.memory.id);
    // The hash the signed cookie carries, so that a returning visitor costs no HMAC, is the real one.
    const key = await signingKey(env.DECISION_SIGNING_KEY);
    expect(toHex(visitor.hash)).toBe(toHex(await hmac(key, "visitor-hash", visitor.memory.id)));
    expect(toHex(visitor.hash)).toBe(row.visitorHash);
    const again = await decide(h, contextBody(), { cookie });
    expect(again.row.visitorHash).toBe(row.visitorHash);
  });

  test("remembers the visitor across page views through the cookie", async () => {
    const h = harness();
    const first = await decide(h, contextBody());
    const second = await decide(h, contextBody(), { cookie: first.cookie });
    const context = JSON.parse(second.row.context);
    expect(context.lastPromotion).toBe(first.answer.promotion.id);
    expect(context.promosSeen7d).toBe(first.answer.promotion.id === "none" ? 0 : 1);
    expect((await visitorOf(second.cookie))!.memory.id).toBe((await visitorOf(first.cookie))!.memory.id);
  });

  test("ignores a tampered or garbled cookie and starts a new visitor", async () => {
    const h = harness();
    let { cookie } = await decide(h, contextBody());
    for (let i = 0; i < 3; i++) ({ cookie } = await decide(h, contextBody(), { cookie }));
    const original = (await visitorOf(cookie))!.memory;
    expect(original.visits).toBe(1);

    // Re-encode the payload with one more purchase but keep the old signature.
    const [payload, signature] = cookie.slice(VISITOR_COOKIE.length + 1).split(".");
    const memory = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = btoa(JSON.stringify({ ...memory, purchases: 5 }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

    for (const bad of [
      `${VISITOR_COOKIE}=${forged}.${signature}`,
      `${VISITOR_COOKIE}=garbage`,
      `${VISITOR_COOKIE}=${payload}.${signature}x`,
    ]) {
      const { cookie: replaced, row } = await decide(h, contextBody(), { cookie: bad });
      const fresh = (await visitorOf(replaced))!.memory;
      expect(fresh.id).not.toBe(original.id);
      expect(JSON.parse(row.context)).toMatchObject({ purchases: 0, promosSeen7d: 0, lastPromotion: null });
    }
  });
});

describe("eligibility through the Worker", () => {
  test("candidates narrow the choice, and the logged propensity is under that narrowed mask", async () => {
    const h = harness();
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const { answer, row } = await decide(h, contextBody({ cartValue: 50 }, ["pct10", "bundle"]));
      seen.add(answer.promotion.id);
      expect(JSON.parse(row.eligible)).toEqual(["none", "pct10", "bundle"]);
      // The control-with-exploration propensity among 3, not among the 7 of the whole catalogue.
      expect(answer.propensity).toBeCloseTo(controlPropensity(answer.promotion.id, 3), 12);
    }
    expect([...seen].every((id) => ["none", "pct10", "bundle"].includes(id))).toBe(true);
    expect(seen.has("none")).toBe(true);
  });

  test("a promotion is never offered below its minimum cart value, even when the policy prefers it", async () => {
    await publish(env.POLICY, qtablePolicy("prefers-gift", "gift"));
    const h = harness();
    const rich = await decide(h, contextBody({ cartValue: 120 }));
    expect(rich.answer).toMatchObject({
      promotion: { id: "gift" },
      propensity: 1,
      explored: false,
      policyVersion: "prefers-gift",
    });

    const poor = await decide(h, contextBody({ cartValue: 10 }));
    expect(poor.answer.promotion.id).not.toBe("gift");
    expect(JSON.parse(poor.row.eligible)).toEqual(["none", "pct10", "free_shipping"]);
  });

  test("the per-visitor exposure cap travels in the cookie", async () => {
    await publish(env.POLICY, qtablePolicy("prefers-gift", "gift"));
    const h = harness();
    const shown: string[] = [];
    let cookie: string | undefined;
    for (let i = 0; i < 3; i++) {
      const decided = await decide(h, contextBody({ cartValue: 120 }), cookie === undefined ? {} : { cookie });
      shown.push(decided.answer.promotion.id);
      cookie = decided.cookie;
      if (i === 2) expect(JSON.parse(decided.row.eligible)).not.toContain("gift");
    }
    // gift: at most 2 exposures per visitor per 7 days.
    expect(shown).toEqual(["gift", "gift", "none"]);
  });

  test("a country rule applies to the resolved country", async () => {
    const h = harness();
    const { row } = await decide(h, { context: { page: "cart", cartValue: 100 } }, { cf: { country: "JP" } });
    expect(JSON.parse(row.eligible)).not.toContain("free_shipping");
  });
});

describe("bad requests are 4xx with a JSON message naming the problem", () => {
  const h = harness({ MAX_BODY_BYTES: "1024" });

  async function expectError(request: Request, status: number, error: string, field?: string) {
    const response = await call(h, request);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = await response.json<{ error: string; field?: string; message: string }>();
    expect(body.error).toBe(error);
    expect(body.field).toBe(field);
    expect(body.message.length).toBeGreaterThan(0);
    expect(h.sent).toEqual([]);
    return body;
  }

  test("malformed JSON", async () => {
    const body = await expectError(postJson("/v1/decide", '{"context": {"page": "cart",'), 400, "invalid_json");
    expect(body.message).toMatch(/not valid JSON/);
    await expectError(postJson("/v1/decide", ""), 400, "invalid_json");
  });

  test("wrong types and missing fields name the field", async () => {
    const wrongType = await expectError(
      postJson("/v1/decide", contextBody({ cartValue: "12" })),
      400,
      "invalid_body",
      "context.cartValue",
    );
    expect(wrongType.message).toContain("context.cartValue");
    await expectError(postJson("/v1/decide", { context: { cartValue: 3 } }), 400, "invalid_body", "context.page");
    await expectError(postJson("/v1/decide", contextBody({ page: "landing" })), 400, "invalid_body", "context.page");
    await expectError(postJson("/v1/decide", contextBody({ cartValue: -1 })), 400, "invalid_body", "context.cartValue");
    await expectError(postJson("/v1/decide", contextBody({ localHour: 24 })), 400, "invalid_body", "context.localHour");
    await expectError(
      postJson("/v1/decide", contextBody({ timezone: "Mars/Olympus" })),
      400,
      "invalid_body",
      "context.timezone",
    );
    await expectError(postJson("/v1/decide", contextBody({ country: "USA" })), 400, "invalid_body", "context.country");
    await expectError(
      postJson("/v1/decide", { ...contextBody(), candidates: "pct10" }),
      400,
      "invalid_body",
      "candidates",
    );
    await expectError(postJson("/v1/decide", [contextBody()]), 400, "invalid_body");
  });

  test("an unknown promotion id in candidates is named", async () => {
    const body = await expectError(
      postJson("/v1/decide", contextBody({}, ["pct10", "pct99"])),
      400,
      "unknown_promotion",
      "candidates[1]",
    );
    expect(body.message).toContain('"pct99"');
  });

  test("an oversized body is refused by its Content-Length", async () => {
    const big = JSON.stringify(contextBody({ padding: "x".repeat(2000) }));
    await expectError(postJson("/v1/decide", big), 413, "body_too_large");
  });

  test("an oversized body is refused by its actual bytes when Content-Length is absent or lies", async () => {
    const chunk = new TextEncoder().encode(
      `{"context": {"page": "cart", "cartValue": 1, "padding": "${"x".repeat(600)}`,
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const request = new Request("https://promo.example/v1/decide", {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/json" },
    });
    expect(request.headers.get("content-length")).toBeNull();
    await expectError(request, 413, "body_too_large");

    const broken = new Request("https://promo.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"context": {"page": "ho'));
          controller.error(new Error("client disconnected"));
        },
      }),
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await expectError(broken, 400, "incomplete_body");
    // With a Content-Length the runtime reads the body whole; a break mid-way is the same 400.
    const brokenWithLength = new Request("https://promo.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "64" },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"context": {"page": "ho'));
          controller.error(new Error("client disconnected"));
        },
      }),
    });
    await expectError(brokenWithLength, 400, "incomplete_body");
    expect(errors).not.toHaveBeenCalled();

    const lying = new Request("https://promo.example/v1/decide", {
      method: "POST",
      body: JSON.stringify(contextBody({ padding: "x".repeat(2000) })),
      headers: { "content-type": "application/json", "content-length": "10" },
    });
    await expectError(lying, 413, "body_too_large");
  });
});
