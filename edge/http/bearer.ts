import { utf8 } from "../../shared/hash.ts";

/**
 * Whether `authorization` is `Bearer <expected>`. An unset or empty `expected` matches nothing: a
 * route guarded by a secret the operator never set stays closed. Compared in constant time whatever
 * the lengths (their digests are).
 */
export async function bearerMatches(authorization: string | undefined, expected: string | undefined): Promise<boolean> {
  const given = authorization === undefined ? undefined : /^Bearer (.+)$/.exec(authorization)?.[1];
  if (!expected || given === undefined) return false;
  const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text)));
  return crypto.subtle.timingSafeEqual(await digest(given), await digest(expected));
}
