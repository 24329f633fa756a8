import type { ReferrerClass } from "../../shared/context.ts";

const PAID_MEDIA = new Set([
  "cpc",
  "ppc",
  "paid",
  "paidsearch",
  "paid_search",
  "paid-search",
  "cpm",
  "cpv",
  "display",
  "banner",
  "paid_social",
  "paid-social",
  "paidsocial",
  "affiliate",
]);
const EMAIL_MEDIA = new Set(["email", "e-mail", "e_mail", "newsletter", "mail"]);
const SOCIAL_MEDIA = new Set([
  "social",
  "social-network",
  "social_network",
  "social-media",
  "social_media",
  "sm",
  "organic_social",
]);
/** Click ids that ad platforms append to their landing URLs. */
const PAID_CLICK_IDS = ["gclid", "gbraid", "wbraid", "msclkid", "dclid", "ttclid", "li_fat_id"];

const SEARCH_HOSTS =
  /(^|\.)(google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|qwant|naver|seznam|startpage)\.[a-z.]+$|(^|\.)search\.brave\.com$/;
const SOCIAL_HOSTS =
  /(^|\.)(facebook|instagram|twitter|x|linkedin|pinterest|reddit|tiktok|youtube|threads|tumblr|snapchat|vk|bsky)\.(com|net|app)$|(^|\.)(t\.co|lnkd\.in|fb\.me|l\.facebook\.com|lm\.facebook\.com|out\.reddit\.com|bsky\.app)$/;
const WEBMAIL_HOSTS =
  /^(mail\.google\.com|outlook\.live\.com|outlook\.office(365)?\.com|mail\.yahoo\.com|mail\.proton\.me|mail\.aol\.com)$/;

/** Campaign tagging wins over the host: a newsletter link opened in Gmail is email, a Facebook ad is paid. */
function campaignClass(params: URLSearchParams): ReferrerClass | null {
  const medium = params.get("utm_medium")?.trim().toLowerCase();
  if (medium) {
    if (PAID_MEDIA.has(medium)) return "paid";
    if (EMAIL_MEDIA.has(medium)) return "email";
    if (SOCIAL_MEDIA.has(medium)) return "social";
  }
  if (PAID_CLICK_IDS.some((id) => params.has(id))) return "paid";
  return null;
}

function hostClass(host: string): ReferrerClass | null {
  if (WEBMAIL_HOSTS.test(host)) return "email";
  if (SEARCH_HOSTS.test(host)) return "search";
  if (SOCIAL_HOSTS.test(host)) return "social";
  return null;
}

/**
 * Where the visit came from, from a URL: its campaign parameters (the landing page's utm_medium,
 * ad click ids), else its host (a search engine, a social network, a webmail). No URL is "direct".
 */
export function referrerClassOf(url: string | null): ReferrerClass {
  if (url === null || url.trim() === "") return "direct";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "other";
  }
  return campaignClass(parsed.searchParams) ?? hostClass(parsed.hostname.toLowerCase()) ?? "other";
}
