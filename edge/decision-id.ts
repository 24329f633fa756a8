import { fromBase64Url, toBase64Url } from "../shared/base64url.ts";
import { hmac } from "../shared/hmac.ts";
import { randomToken, verifyTruncatedHmac } from "./crypto.ts";

/**
 * A decision id is `<issued ms, base 36>.<128 random bits>.<visitor binding>.<128-bit HMAC tag>`,
 * all URL-safe. The random part makes ids unguessable and feeds the exploration draw; the binding
 * (the first 64 bits of the visitor's hash) ties the id to the visitor it was issued to, so that a
 * browser can report outcomes only for its own decisions; the tag lets /v1/outcome accept only ids
 * this edge issued, without a lookup; the time bounds their life.
 */
const RANDOM_BYTES = 16;
const TAG_BYTES = 16;
const BINDING_BYTES = 8;
const DECISION_ID = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{22})$/;
/** How far ahead of this isolate's clock an issue time may be: clocks of edge machines drift a little. */
export const CLOCK_SKEW_MS = 60_000;

/** The binding of a decision id to a visitor, from the visitor's hash (`hmac(key, "visitor-hash", id)`). */
export function visitorBinding(visitorHash: Uint8Array): string {
  return toBase64Url(visitorHash.subarray(0, BINDING_BYTES));
}

export async function mintDecisionId(key: CryptoKey, issuedAt: number, visitorHash: Uint8Array): Promise<string> {
  const unsigned = `${issuedAt.toString(36)}.${randomToken(RANDOM_BYTES)}.${visitorBinding(visitorHash)}`;
  const tag = (await hmac(key, "decision-id", unsigned)).subarray(0, TAG_BYTES);
  return `${unsigned}.${toBase64Url(tag)}`;
}

export type DecisionIdCheck =
  | { valid: true; issuedAt: number; binding: string }
  | { valid: false; reason: "malformed" | "forged" | "expired" | "from_future"; issuedAt: number | null };

/** Verifies the tag first: nothing about an unsigned id, its time included, is believed. */
export async function checkDecisionId(
  key: CryptoKey,
  decisionId: string,
  now: number,
  maxAgeMs: number,
): Promise<DecisionIdCheck> {
  const match = DECISION_ID.exec(decisionId);
  const tag = match ? fromBase64Url(match[4]!) : null;
  if (!match || tag === null || fromBase64Url(match[3]!) === null) {
    return { valid: false, reason: "malformed", issuedAt: null };
  }
  if (!(await verifyTruncatedHmac(key, "decision-id", `${match[1]}.${match[2]}.${match[3]}`, tag))) {
    return { valid: false, reason: "forged", issuedAt: null };
  }
  const issuedAt = parseInt(match[1]!, 36);
  if (issuedAt > now + CLOCK_SKEW_MS) return { valid: false, reason: "from_future", issuedAt };
  if (now - issuedAt > maxAgeMs) return { valid: false, reason: "expired", issuedAt };
  return { valid: true, issuedAt, binding: match[3]! };
}
