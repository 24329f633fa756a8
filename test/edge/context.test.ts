import { describe, expect, test } from "vitest";
import { localClock } from "../../shared/clock.ts";
import { deviceClassOf } from "../../edge/context/device.ts";
import { referrerClassOf } from "../../edge/context/referrer.ts";

describe("deviceClassOf", () => {
  test.each([
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "mobile"],
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36", "mobile"],
    ["Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"],
    ["Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/124.0 Safari/537.36", "tablet"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36", "desktop"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15", "desktop"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "desktop"],
    [
      "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X) Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "other",
    ],
    ["curl/8.5.0", "other"],
    ["", "other"],
    [null, "other"],
  ] as const)("%s → %s", (userAgent, expected) => {
    expect(deviceClassOf(userAgent)).toBe(expected);
  });
});

describe("referrerClassOf", () => {
  test.each([
    [null, "direct"],
    ["", "direct"],
    ["https://www.google.com/", "search"],
    ["https://www.bing.com/search?q=shoes", "search"],
    ["https://duckduckgo.com/", "search"],
    ["https://search.brave.com/search?q=x", "search"],
    ["https://www.facebook.com/", "social"],
    ["https://t.co/abc", "social"],
    ["https://www.reddit.com/r/shoes", "social"],
    ["https://mail.google.com/mail/u/0/", "email"],
    ["https://shop.example/?utm_source=newsletter&utm_medium=email", "email"],
    ["https://shop.example/?utm_medium=cpc&utm_source=google", "paid"],
    ["https://shop.example/product/1?gclid=abc", "paid"],
    ["https://www.facebook.com/?utm_medium=paid_social", "paid"],
    ["https://shop.example/?utm_medium=social", "social"],
    ["https://blog.example.org/review", "other"],
    ["not a url", "other"],
  ] as const)("%s → %s", (url, expected) => {
    expect(referrerClassOf(url)).toBe(expected);
  });
});

describe("localClock", () => {
  // Tuesday 2026-03-03 23:30 UTC.
  const instant = Date.UTC(2026, 2, 3, 23, 30);

  test("in a zone ahead of UTC the hour and the day both move on", () => {
    expect(localClock("Asia/Tokyo", instant)).toEqual({ localHour: 8, weekday: 3 });
  });

  test("in a zone behind UTC", () => {
    expect(localClock("America/New_York", instant)).toEqual({ localHour: 18, weekday: 2 });
  });

  test("midnight is hour 0, and an unknown or absent zone is UTC", () => {
    expect(localClock("UTC", Date.UTC(2026, 2, 8, 0, 5))).toEqual({ localHour: 0, weekday: 0 });
    expect(localClock("Nowhere/Special", instant)).toEqual({ localHour: 23, weekday: 2 });
    expect(localClock(undefined, instant)).toEqual({ localHour: 23, weekday: 2 });
  });

  test("reusing a zone's clock within a quarter hour is exact, across DST changes and odd offsets", () => {
    const reference = (zone: string, at: number) => {
      const parts = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hour: "numeric",
        hourCycle: "h23",
        weekday: "short",
      }).formatToParts(at);
      const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
      return {
        localHour: Number(parts.find((p) => p.type === "hour")!.value) % 24,
        weekday: days.indexOf(parts.find((p) => p.type === "weekday")!.value),
      };
    };
    // Around the 2026 US spring-forward (March 8, 07:00 UTC) and Nepal's +5:45, minute by minute.
    for (const [zone, start] of [
      ["America/New_York", Date.UTC(2026, 2, 8, 5)],
      ["Asia/Kathmandu", Date.UTC(2026, 2, 3, 17)],
    ] as const) {
      for (let minute = 0; minute < 240; minute += 7) {
        const at = start + minute * 60_000;
        expect(localClock(zone, at)).toEqual(reference(zone, at));
      }
    }
  });
});
