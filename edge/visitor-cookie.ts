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

export function newVisitor(now: number): VisitorMemory {
  return newVisitorMemory(randomToken(16), now);
}

function trimExposures(memory: VisitorMemory): VisitorMemory {
  const exposures: Record<string, number[]> = {};
  for (const [id, days] of Object.entries(memory.exposures)) exposures[id] = days.slice(-MAX_EXPOSURES_PER_PROMOTION);
  return { ...memory, exposures };
}

/** `base64url(JSON)` + "." + `base64url(HMAC-SHA256)`. */
export async function encodeVisitorCookie(key: CryptoKey, memory: VisitorMemory): Promise<string> {
  const payload = toBase64Url(new TextEncoder().encode(JSON.stringify(trimExposures(memory))));
  return `${payload}.${toBase64Url(await hmac(key, "visitor-cookie", payload))}`;
}

/**
 * The visitor a cookie value describes, or null when there is none worth trusting: a missing,
 * garbled, re-signed or tampered cookie all mean "a visitor we do not know yet", never an error.
 */
export async function decodeVisitorCookie(key: CryptoKey, value: string | undefined): Promise<VisitorMemory | null> {
  const [payload, signature, ...rest] = value?.split(".") ?? [];
  const tag = signature === undefined ? null : fromBase64Url(signature);
  if (payload === undefined || tag === null || rest.length > 0) return null;
  if (!(await verifyHmac(key, "visitor-cookie", payload, tag))) return null;
  const json = fromBase64Url(payload);
  if (json === null) return null;
  try {
    const parsed = visitorMemorySchema.safeParse(JSON.parse(new TextDecoder().decode(json)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function readVisitorCookie(c: HonoContext, key: CryptoKey): Promise<VisitorMemory | null> {
  return decodeVisitorCookie(key, getCookie(c, VISITOR_COOKIE));
}

export async function writeVisitorCookie(c: HonoContext, key: CryptoKey, memory: VisitorMemory): Promise<void> {
  setCookie(c, VISITOR_COOKIE, await encodeVisitorCookie(key, memory), {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: ONE_YEAR_SECONDS,
  });
}
