import { utf8 } from "./hash.ts";

/**
 * Every HMAC under the edge's signing key is bound to one purpose, so that a value signed for one use
 * (a cookie, say) can never be replayed as another (a decision id, an offer), although they share one
 * secret. The shop's server verifies offers with the same binding (shared/offer-token.ts).
 */
export type HmacPurpose = "decision-id" | "visitor-cookie" | "visitor-hash" | "offer-token";

/** The HMAC-SHA256 key of a signing secret (DECISION_SIGNING_KEY), for signing and verifying. */
export function importSigningKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function purposeMessage(purpose: HmacPurpose, message: string): Uint8Array {
  return utf8(`${purpose}\n${message}`);
}

export async function hmac(key: CryptoKey, purpose: HmacPurpose, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, purposeMessage(purpose, message)));
}

/** Checks a full-length HMAC tag; WebCrypto compares in constant time. */
export async function verifyHmac(
  key: CryptoKey,
  purpose: HmacPurpose,
  message: string,
  tag: Uint8Array,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", key, tag, purposeMessage(purpose, message));
}
