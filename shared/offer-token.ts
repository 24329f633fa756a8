import { fromBase64Url, toBase64Url } from "./base64url.ts";
import { utf8 } from "./hash.ts";
import { hmac, verifyHmac } from "./hmac.ts";

/**
 * An offer token: the proof that this edge showed this promotion, on this decision, to this visitor,
 * until `expiresAt`. The browser can lie about its cart to be shown a promotion, so a coupon must
 * be checked at checkout; the shop's server checks the token (here, or through POST /v1/offer/verify)
 * along with the real cart. A verifier outside the edge gets the key with `importSigningKey`
 * (shared/hmac.ts).
 *
 * A token is `<payload>.<tag>`: base64url of the offer's JSON, and base64url of its HMAC-SHA256
 * under the edge's signing key, bound to the purpose "offer-token" so that no other signed value of
 * the edge can pass for one.
 */
export interface Offer {
  decisionId: string;
  promotionId: string;
  /** The visitor binding of the decision id (the first 64 bits of the visitor's hash). */
  visitor: string;
  /** Epoch ms after which the offer no longer holds. */
  expiresAt: number;
}

export type OfferCheck = { valid: true; offer: Offer } | { valid: false; reason: "malformed" | "forged" | "expired" };

export async function signOffer(key: CryptoKey, offer: Offer): Promise<string> {
  const payload = toBase64Url(
    utf8(JSON.stringify([offer.decisionId, offer.promotionId, offer.visitor, offer.expiresAt])),
  );
  const tag = await hmac(key, "offer-token", payload);
  return `${payload}.${toBase64Url(tag)}`;
}

export async function verifyOffer(key: CryptoKey, token: string, now: number): Promise<OfferCheck> {
  const [payload, tagText, ...rest] = token.split(".");
  const tag = tagText === undefined ? null : fromBase64Url(tagText);
  const bytes = payload === undefined ? null : fromBase64Url(payload);
  if (rest.length > 0 || payload === undefined || tag === null || bytes === null) {
    return { valid: false, reason: "malformed" };
  }
  if (!(await verifyHmac(key, "offer-token", payload, tag))) {
    return { valid: false, reason: "forged" };
  }
  const offer = parseOffer(new TextDecoder().decode(bytes));
  if (offer === null) return { valid: false, reason: "malformed" };
  return offer.expiresAt < now ? { valid: false, reason: "expired" } : { valid: true, offer };
}

function parseOffer(json: string): Offer | null {
  let fields: unknown;
  try {
    fields = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 4) return null;
  const [decisionId, promotionId, visitor, expiresAt] = fields as unknown[];
  if (typeof decisionId !== "string" || typeof promotionId !== "string" || typeof visitor !== "string") return null;
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) return null;
  return { decisionId, promotionId, visitor, expiresAt };
}
