import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, test } from "vitest";
import { SIMULATED_TIME_HEADER } from "../../shared/simulated-clock.ts";
import { call, contextBody, decide, harness, postJson, publish, qtablePolicy, unpublish } from "./helpers.ts";

const SERVER = { authorization: `Bearer ${env.OUTCOME_API_KEY}` };
const verify = (body: unknown, headers: Record<string, string> = SERVER) =>
  postJson("/v1/offer/verify", body, { headers });

beforeEach(() => unpublish(env.POLICY));

describe("offer tokens through the Worker", () => {
  test("a shown promotion comes with an offer token that the shop's server can verify at checkout", async () => {
    const h = harness({ SIMULATED_CLOCK: "allow" });
    await publish(env.POLICY, qtablePolicy("v-offers", "pct20"));
    const { answer } = await decide(h, contextBody({ cartValue: 150 }));
    expect(answer.promotion.id).toBe("pct20");
    const offer = answer.offer!;
    expect(Date.parse(offer.expiresAt) - Date.now()).toBeGreaterThan(86_000_000);

    const ok = await call(h, verify({ token: offer.token, promotionId: "pct20" }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      valid: true,
      decisionId: answer.decisionId,
      promotionId: "pct20",
      expiresAt: offer.expiresAt,
    });
    expect(await (await call(h, verify({ token: offer.token, promotionId: "gift" }))).json()).toEqual({
      valid: false,
      reason: "other_promotion",
      promotionId: "pct20",
    });
    const tampered = `${offer.token.slice(0, 5)}${offer.token[5] === "A" ? "B" : "A"}${offer.token.slice(6)}`;
    expect(await (await call(h, verify({ token: tampered }))).json()).toMatchObject({ valid: false });
    const later = await call(
      h,
      verify({ token: offer.token }, { ...SERVER, [SIMULATED_TIME_HEADER]: String(Date.parse(offer.expiresAt) + 1) }),
    );
    expect(await later.json()).toEqual({ valid: false, reason: "expired" });
  });

  test("only the shop's server may ask, and nothing shown needs no token", async () => {
    const h = harness();
    const { answer } = await decide(h, contextBody({ cartValue: 0 }, ["none"]));
    expect(answer.promotion.id).toBe("none");
    expect("offer" in answer).toBe(false);
    const refused: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }];
    for (const headers of refused) {
      const response = await call(h, verify({ token: "x.y" }, headers));
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: "invalid_api_key" });
    }
    const bad = await call(h, verify({ token: 42 }));
    expect(bad.status).toBe(400);
  });
});
