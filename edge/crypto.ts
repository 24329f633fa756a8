import { toBase64Url } from "../shared/base64url.ts";
import { utf8 } from "../shared/hash.ts";

/**
 * Every HMAC the edge computes is bound to one purpose, so that a value signed for one use (a
 * cookie, say) can never be replayed as another (a decision id), although they share one secret.
 */
export type HmacPurpose = "decision-id" | "visitor-cookie" | "visitor-hash";

/** The shortest secret accepted: anything shorter is a misconfiguration, not a key. */
const MIN_SECRET_LENGTH = 16;

export class MissingSecretError extends Error {
  override readonly name = "MissingSecretError";
}

// The imported key, not the promise of it: a promise created in one request and awaited in another
// is something workerd warns about, and importing twice on a cold isolate costs microseconds.
let cachedKey: { secret: string; key: CryptoKey } | null = null;

/** The HMAC-SHA256 key for `secret` (DECISION_SIGNING_KEY), imported once per isolate. */
export async function signingKey(secret: string | undefined): Promise<CryptoKey> {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) {
    throw new MissingSecretError(`DECISION_SIGNING_KEY must be set to at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (cachedKey?.secret === secret) return cachedKey.key;
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  cachedKey = { secret, key };
  return key;
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

/** Checks a truncated HMAC tag (its first `tag.length` bytes) without leaking where it differs. */
export async function verifyTruncatedHmac(
  key: CryptoKey,
  purpose: HmacPurpose,
  message: string,
  tag: Uint8Array,
): Promise<boolean> {
  const expected = (await hmac(key, purpose, message)).subarray(0, tag.length);
  return tag.length > 0 && crypto.subtle.timingSafeEqual(expected, tag);
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** `byteCount` random bytes, base64url: unguessable ids. */
export function randomToken(byteCount: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(byteCount)));
}
