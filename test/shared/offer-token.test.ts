import { describe, expect, test } from "vitest";
import { importSigningKey } from "../../shared/hmac.ts";
import { signOffer, verifyOffer, type Offer } from "../../shared/offer-token.ts";

const OFFER: Offer = { decisionId: "mx3s.abc.def.ghi", promotionId: "pct20", visitor: "Tw7ZPq0ZbXk", expiresAt: 2_000 };

describe("offer tokens", () => {
  test("a signed offer verifies, and says what it was for, until it expires", async () => {
    const key = await importSigningKey("offer-test-key-0123456789abcdef");
    const token = await signOffer(key, OFFER);
    expect(await verifyOffer(key, token, 1_000)).toEqual({ valid: true, offer: OFFER });
    expect(await verifyOffer(key, token, 2_000)).toEqual({ valid: true, offer: OFFER });
    expect(await verifyOffer(key, token, 2_001)).toEqual({ valid: false, reason: "expired" });
  });

  test("another key, another promotion in the payload, or a respelt tag is refused", async () => {
    const key = await importSigningKey("offer-test-key-0123456789abcdef");
    const other = await importSigningKey("another-key-0123456789abcdef!!");
    const token = await signOffer(key, OFFER);
    expect(await verifyOffer(other, token, 0)).toEqual({ valid: false, reason: "forged" });
    const [, tag] = token.split(".");
    const swapped = `${(await signOffer(key, { ...OFFER, promotionId: "gift" })).split(".")[0]}.${tag}`;
    expect(await verifyOffer(key, swapped, 0)).toEqual({ valid: false, reason: "forged" });
    // A 32-byte tag is 43 characters; its last one has 2 unused bits.
    const last = tag!.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelt = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
    expect(await verifyOffer(key, respelt, 0)).toEqual({ valid: false, reason: "malformed" });
  });

  test("garbage is malformed, never an exception", async () => {
    const key = await importSigningKey("offer-test-key-0123456789abcdef");
    for (const token of ["", ".", "a.b.c", "!!!.???", "e30.AAAA", "x"]) {
      expect((await verifyOffer(key, token, 0)).valid).toBe(false);
    }
  });
});
