import type { DeviceClass } from "../../shared/context.ts";

// Crawlers and scripts are "other": a policy should learn nothing from their page views.
const AUTOMATED =
  /bot\b|bot\/|crawler|spider|slurp|headless|curl\/|wget\/|python-requests|python-urllib|go-http-client|okhttp|java\//i;
const TABLET = /ipad|tablet|playbook|silk\/|kindle|nexus (7|9|10)\b/i;
const MOBILE = /mobi|iphone|ipod|windows phone|blackberry|bb10|opera mini|iemobile/i;
const DESKTOP = /windows nt|macintosh|mac os x|x11|cros|linux x86_64/i;

/**
 * Coarse device class from a User-Agent. Only the class is kept: the raw string never reaches a log.
 * iPadOS presents itself as a Mac and is counted as a desktop, which is also how its pages render.
 */
export function deviceClassOf(userAgent: string | null): DeviceClass {
  if (!userAgent || AUTOMATED.test(userAgent)) return "other";
  if (TABLET.test(userAgent)) return "tablet";
  if (MOBILE.test(userAgent)) return "mobile";
  // Android phones say "Mobile"; Android without it is a tablet.
  if (/android/i.test(userAgent)) return "tablet";
  if (DESKTOP.test(userAgent)) return "desktop";
  return "other";
}
