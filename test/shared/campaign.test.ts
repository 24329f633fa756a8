import { describe, expect, test } from "vitest";
import { localDay, servableCandidates, throttlesFor } from "../../shared/budget.ts";
import { inCampaignWindow, localTimeToInstant } from "../../shared/campaign.ts";
import { DEFAULT_CATALOGUE, type Promotion } from "../../shared/catalogue.ts";

const at = Date.parse;

describe("local times in a zone", () => {
  test.each([
    ["2026-07-01T12:00", "Europe/Paris", "2026-07-01T10:00:00Z"], // summer, UTC+2
    ["2026-01-15T00:00", "Europe/Paris", "2026-01-14T23:00:00Z"], // winter, UTC+1
    ["2026-03-08T02:30", "America/New_York", "2026-03-08T07:30:00Z"], // in the spring-forward gap: an hour on
    ["2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00Z"], // in the fall-back overlap: the earlier
    ["2026-06-01T00:00", "Asia/Kolkata", "2026-05-31T18:30:00Z"], // a half-hour offset
    ["2026-06-01T00:00:30", "UTC", "2026-06-01T00:00:30Z"],
  ])("%s in %s is %s", (local, zone, instant) => {
    expect(localTimeToInstant(local, zone)).toBe(at(instant));
  });

  test("a day is midnight to midnight where the shop is, 23 or 25 hours across a clock change", () => {
    expect(localDay(at("2026-03-29T12:00:00Z"), "Europe/Paris")).toEqual({
      date: "2026-03-29",
      start: at("2026-03-28T23:00:00Z"),
      end: at("2026-03-29T22:00:00Z"),
    });
    const fallBack = localDay(at("2026-10-25T12:00:00Z"), "Europe/Paris");
    expect(fallBack.end - fallBack.start).toBe(25 * 3_600_000);
  });
});

describe("what a decision may consider", () => {
  const sale: Promotion = {
    ...DEFAULT_CATALOGUE[1]!,
    eligibility: { window: { start: "2026-12-01T00:00", end: "2026-12-02T00:00", timeZone: "UTC" } },
  };
  const budgeted: Promotion = {
    ...DEFAULT_CATALOGUE[2]!,
    eligibility: { dailyBudget: { exposures: 10, timeZone: "UTC" } },
  };
  const catalogue = [DEFAULT_CATALOGUE[0]!, sale, budgeted, ...DEFAULT_CATALOGUE.slice(3)];
  const ids = catalogue.map((p) => p.id);

  test("windows are [start, end)", () => {
    expect(inCampaignWindow(sale, at("2026-11-30T23:59:59.999Z"))).toBe(false);
    expect(inCampaignWindow(sale, at("2026-12-01T00:00:00Z"))).toBe(true);
    expect(inCampaignWindow(sale, at("2026-12-02T00:00:00Z"))).toBe(false);
  });

  test("budgets throttle at their limit, until the end of the day", () => {
    const now = at("2026-12-01T10:00:00Z");
    expect(throttlesFor(catalogue, new Map([["pct20", { exposures: 9, spend: 0 }]]), now)).toEqual({});
    const throttles = throttlesFor(catalogue, new Map([["pct20", { exposures: 10, spend: 0 }]]), now);
    expect(throttles).toEqual({
      pct20: { until: at("2026-12-02T00:00:00Z"), reason: "daily budget used on 2026-12-01 (UTC): 10 exposures of 10" },
    });
    expect(servableCandidates(catalogue, throttles, now, undefined)).toEqual(ids.filter((id) => id !== "pct20"));
    expect(servableCandidates(catalogue, throttles, at("2026-12-02T00:00:00Z"), undefined)).toEqual(
      ids.filter((id) => id !== "pct10"),
    );
  });

  test("nothing excluded leaves the page's candidates as they were; exclusions narrow them", () => {
    const now = at("2026-12-01T10:00:00Z");
    expect(servableCandidates(catalogue, {}, now, undefined)).toBeUndefined();
    expect(servableCandidates(catalogue, {}, now, ["bundle"])).toEqual(["bundle"]);
    expect(servableCandidates(catalogue, {}, at("2026-12-05T00:00:00Z"), ["pct10", "bundle"])).toEqual(["bundle"]);
  });
});
