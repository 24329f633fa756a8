import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { call, harness } from "./helpers.ts";

const ROUTES = [
  "/v1/decide",
  "/v1/outcome",
  "/v1/offer/verify",
  "/v1/policy",
  "/healthz",
  "/admin",
  "/",
  "/v1",
  "/v1/decide/x",
  "/%ZZ",
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

/** JSON that looks like what the routes expect, with every field free to be wrong. */
const almostValid = fc.oneof(
  fc.record(
    {
      context: fc.oneof(
        fc.record(
          {
            page: fc.oneof(fc.constantFrom("home", "cart", "product"), fc.string(), fc.integer()),
            cartValue: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null)),
            referrer: fc.oneof(fc.webUrl(), fc.string({ maxLength: 3000 }), fc.integer()),
            country: fc.oneof(fc.constantFrom("US", "FR", "us"), fc.string()),
            timezone: fc.oneof(fc.constantFrom("Europe/Paris", "Mars/Olympus"), fc.string()),
            localHour: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double()),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
      candidates: fc.oneof(fc.array(fc.string()), fc.array(fc.constantFrom("none", "pct10", "gift")), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      decisionId: fc.oneof(
        fc.string(),
        fc.stringMatching(/^[0-9a-z]{8}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}$/),
      ),
      kind: fc.oneof(fc.constantFrom("click", "conversion", "refund"), fc.string()),
      value: fc.oneof(fc.double(), fc.integer(), fc.string()),
      eventKey: fc.oneof(fc.string(), fc.integer()),
    },
    { requiredKeys: [] },
  ),
);

const body = fc.oneof(
  almostValid.map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.constant(null),
);

const headers = fc.record(
  {
    "content-type": fc.constantFrom("application/json", "text/plain", "application/json; charset=latin1", "", "x/y"),
    cookie: fc.oneof(fc.string(), fc.constant("ep_v=garbage.garbage"), fc.constant("ep_v=")),
    authorization: fc.oneof(
      fc.string(),
      fc.constant(`Bearer ${env.OUTCOME_API_KEY}`),
      fc.constant(`Bearer ${env.ADMIN_TOKEN}`),
      fc.constant("Bearer "),
    ),
    "user-agent": fc.string(),
    referer: fc.string(),
    "x-simulated-time": fc.string(),
  },
  { requiredKeys: [] },
);

describe("fuzzing every route with bad requests", () => {
  test("1,000 generated requests: never a 5xx, and every 4xx answers a JSON error", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.constantFrom(...ROUTES),
        headers,
        body,
        async (method, path, head, payload) => {
          const hasBody = payload !== null && method !== "GET" && method !== "HEAD";
          const request = new Request(`https://promo.example${path}`, {
            method,
            headers: Object.fromEntries(Object.entries(head).filter(([, v]) => isHeaderValue(v))),
            ...(hasBody ? { body: payload } : {}),
          });
          const response = await call(h, request);
          expect(response.status, `${method} ${path}`).toBeLessThan(500);
          if (response.status >= 400 && method !== "HEAD") {
            expect(response.headers.get("content-type")).toContain("application/json");
            const answer = await response.json<{ error?: unknown }>();
            expect(typeof answer.error).toBe("string");
          } else {
            await response.body?.cancel();
          }
        },
      ),
      { numRuns: 1000, seed: 20261130 },
    );
  }, 120_000);
});

/** What a Request accepts as a header value: printable Latin-1 without line breaks. */
function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}
