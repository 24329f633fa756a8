import { REFERRER_CLASSES, type Context, type ReferrerClass, type VisitorState } from "../../shared/context.ts";
import type { RequestContext } from "../../shared/api.ts";
import { localClock } from "../../shared/clock.ts";
import type { Profile } from "../../shared/profile.ts";
import { deviceClassOf } from "./device.ts";
import { referrerClassOf } from "./referrer.ts";

/** The user-assigned ISO code for "unknown": what a request with no usable country gets. */
const UNKNOWN_COUNTRY = "ZZ";

/** What the request itself says about the visitor, before the body is considered. */
export interface RequestMetadata {
  userAgent: string | null;
  referer: string | null;
  /** Cloudflare's geolocation; "XX" (unknown) and "T1" (Tor) are not countries. */
  country: string | null;
  timezone: string | null;
}

export function requestMetadata(request: Request): RequestMetadata {
  const cf = request.cf as IncomingRequestCfProperties | undefined;
  const claimed: string | undefined = cf?.country;
  const country = claimed !== undefined && /^[A-Z]{2}$/.test(claimed) && claimed !== "XX" ? claimed : null;
  return {
    userAgent: request.headers.get("user-agent"),
    referer: request.headers.get("referer"),
    country,
    timezone: typeof cf?.timezone === "string" ? cf.timezone : null,
  };
}

function isReferrerClass(value: string): value is ReferrerClass {
  return (REFERRER_CLASSES as readonly string[]).includes(value);
}

function referrerOf(claimed: string | undefined, referer: string | null): ReferrerClass {
  if (claimed === undefined) return referrerClassOf(referer);
  return isReferrerClass(claimed) ? claimed : referrerClassOf(claimed);
}

/**
 * The full decision context: what the body says first, then what the request says, then defaults
 * (UTC, unknown country). The visitor half comes from the signed cookie, never from the body.
 */
export function buildContext(
  input: RequestContext,
  meta: RequestMetadata,
  visitor: VisitorState,
  now: number,
  profile?: Profile,
): Context {
  const clock = localClock(input.timezone ?? meta.timezone ?? undefined, now);
  return {
    device: input.device ?? deviceClassOf(meta.userAgent),
    country: input.country ?? meta.country ?? UNKNOWN_COUNTRY,
    localHour: input.localHour ?? clock.localHour,
    weekday: input.weekday ?? clock.weekday,
    page: input.page,
    referrer: referrerOf(input.referrer, meta.referer),
    cartValue: input.cartValue,
    ...(profile ? { profile } : {}),
    ...visitor,
  };
}
