import type { Context as HonoContext } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { newVisitorMemory, type VisitorMemory } from "../shared/visitor.ts";
import { fromBase64Url, toBase64Url } from "../shared/base64url.ts";
import { hmac, verifyHmac } from "../shared/hmac.ts";
import { randomToken } from "./crypto.ts";

export const VISITOR_COOKIE = "promo_visitor";
const ONE_YEAR_SECONDS = 365 * 86_400;
/**
 * Exposures kept per promotion. Caps are a handful per week, so more would only grow the cookie
 * towards the 4 KB at which browsers drop it, and with it the whole visitor.
 */
const MAX_EXPOSURES_PER_PROMOTION = 32;

/**
 * A visitor as its cookie carries it: what the edge remembers of it, and its hash, the HMAC of its id
 * that logs and decision ids use in its place. The hash rides in the signed cookie, so that a
 * returning visitor costs no HMAC for it: only the edge can sign a cookie, so it cannot be forged.
 */
export interface Visitor {
  memory: VisitorMemory;
  hash: Uint8Array;
}

/** 32 bytes of HMAC-SHA256, base64url. */
const VISITOR_HASH_LENGTH = 43;

const timestamp = z.number().int().min(0);
const visitorMemorySchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  visits: z.number().int().min(0),
  lastSeen: timestamp,
  previousVisitEnd: timestamp.nullable(),
  purchases: z.number().int().min(0),
  lastPurchase: timestamp.nullable(),
  lastPromotion: z.string().max(64).nullable(),
  exposures: z.record(z.string().max(64), z.array(z.number().int()).max(MAX_EXPOSURES_PER_PROMOTION)),
}) satisfies z.ZodType<VisitorMemory>;
const cookiePayloadSchema = visitorMemorySchema.extend({
  hash: z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${VISITOR_HASH_LENGTH}}$`)),
});

export async function newVisitor(key: CryptoKey, now: number): Promise<Visitor> {
  const memory = newVisitorMemory(randomToken(16), now);
  return { memory, hash: await hmac(key, "visitor-hash", memory.id) };
}

function trimExposures(memory: VisitorMemory): VisitorMemory {
  const exposures: Record<string, number[]> = {};
  for (const [id, days] of Object.entries(memory.exposures)) exposures[id] = days.slice(-MAX_EXPOSURES_PER_PROMOTION);
  return { ...memory, exposures };
}

/** `base64url(JSON of the memory and the hash)` + "." + `base64url(HMAC-SHA256)`. */
export async function encodeVisitorCookie(key: CryptoKey, visitor: Visitor): Promise<string> {
  const json = JSON.stringify({ ...trimExposures(visitor.memory), hash: toBase64Url(visitor.hash) });
  const payload = toBase64Url(new TextEncoder().encode(json));
  return `${payload}.${toBase64Url(await hmac(key, "visitor-cookie", payload))}`;
}

/**
 * The visitor a cookie value describes, or null when there is none worth trusting: a missing,
 * garbled, re-signed or tampered cookie all mean "a visitor we do not know yet", never an error.
 */
export async function decodeVisitorCookie(key: CryptoKey, value: string | undefined): Promise<Visitor | null> {
  const [payload, signature, ...rest] = value?.split(".") ?? [];
  const tag = signature === undefined ? null : fromBase64Url(signature);
  if (payload === undefined || tag === null || rest.length > 0) return null;
  if (!(await verifyHmac(key, "visitor-cookie", payload, tag))) return null;
  const json = fromBase64Url(payload);
  if (json === null) return null;
  try {
    const parsed = cookiePayloadSchema.safeParse(JSON.parse(new TextDecoder().decode(json)));
    if (!parsed.success) return null;
    const { hash, ...memory } = parsed.data;
    const hashBytes = fromBase64Url(hash);
    return hashBytes === null ? null : { memory, hash: hashBytes };
  } catch {
    return null;
  }
}

export async function readVisitorCookie(c: HonoContext, key: CryptoKey): Promise<Visitor | null> {
  return decodeVisitorCookie(key, getCookie(c, VISITOR_COOKIE));
}

export async function writeVisitorCookie(c: HonoContext, key: CryptoKey, visitor: Visitor): Promise<void> {
  setCookie(c, VISITOR_COOKIE, await encodeVisitorCookie(key, visitor), {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: ONE_YEAR_SECONDS,
  });
}
