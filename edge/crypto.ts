import { toBase64Url } from "../shared/base64url.ts";
import { hmac, importSigningKey, type HmacPurpose } from "../shared/hmac.ts";

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
  const key = await importSigningKey(secret);
  cachedKey = { secret, key };
  return key;
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
