import { z } from "zod";
import { inCampaignWindow, localTimeToInstant, wallClock } from "./campaign.ts";
import type { Catalogue, Promotion } from "./catalogue.ts";

/**
 * Daily budgets are enforced by throttles: the Worker's scheduled monitor counts each budgeted
 * promotion's exposures and spend since the start of its day, and writes the promotions that have
 * reached their budget here, each until the end of its day. Decisions never wait on a counter;
 * the price is a bounded overshoot (README, "Campaign windows and budgets").
 */
export const THROTTLES_KEY = "budget/throttles";

export interface Throttle {
  /** The end of the budget's day, ms: past it, the promotion serves again without a new monitor run. */
  until: number;
  reason: string;
}

export type Throttles = Readonly<Record<string, Throttle>>;

export const throttlesSchema = z.record(
  z.string(),
  z.object({ until: z.number().finite(), reason: z.string().max(500) }),
) satisfies z.ZodType<Throttles>;

/** What a budgeted promotion has used since the start of its day. */
export interface BudgetUsage {
  exposures: number;
  spend: number;
}

/** `YYYY-MM-DD` of `at` in `timeZone`. */
function localDate(at: number, timeZone: string): string {
  const { year, month, day } = wallClock(timeZone, at);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** The local day containing `now` in `timeZone`, as [start, end) instants. */
export function localDay(now: number, timeZone: string): { start: number; end: number; date: string } {
  const date = localDate(now, timeZone);
  const start = localTimeToInstant(`${date}T00:00`, timeZone);
  // 36 hours on lands in the next local day whatever the day's length (23 to 25 hours).
  const next = localDate(start + 36 * 3_600_000, timeZone);
  return { start, end: localTimeToInstant(`${next}T00:00`, timeZone), date };
}

/** The promotions of the catalogue that have a daily budget. */
export function budgeted(catalogue: Catalogue): Promotion[] {
  return catalogue.filter((p) => p.eligibility.dailyBudget !== undefined);
}

/** The throttles `usage` calls for at `now`: every budgeted promotion that has used its budget, until its day ends. */
export function throttlesFor(catalogue: Catalogue, usage: ReadonlyMap<string, BudgetUsage>, now: number): Throttles {
  const out: Record<string, Throttle> = {};
  for (const promotion of budgeted(catalogue)) {
    const budget = promotion.eligibility.dailyBudget!;
    const used = usage.get(promotion.id) ?? { exposures: 0, spend: 0 };
    const over =
      budget.exposures !== undefined && used.exposures >= budget.exposures
        ? `${used.exposures} exposures of ${budget.exposures}`
        : budget.spend !== undefined && used.spend >= budget.spend
          ? `spent ${used.spend.toFixed(2)} of ${budget.spend}`
          : null;
    if (over) {
      const day = localDay(now, budget.timeZone);
      out[promotion.id] = { until: day.end, reason: `daily budget used on ${day.date} (${budget.timeZone}): ${over}` };
    }
  }
  return out;
}

/**
 * The promotions a decision at `now` may consider: in their campaign window, not throttled, and
 * among `candidates` when the page names some. Undefined when nothing is excluded, which keeps the
 * common path free of work.
 */
export function servableCandidates(
  catalogue: Catalogue,
  throttles: Throttles,
  now: number,
  candidates: readonly string[] | undefined,
): readonly string[] | undefined {
  let excluded = false;
  const servable: string[] = [];
  for (const promotion of catalogue) {
    const throttled = (throttles[promotion.id]?.until ?? Number.NEGATIVE_INFINITY) > now;
    if (throttled || !inCampaignWindow(promotion, now)) excluded = true;
    else if (candidates === undefined || candidates.includes(promotion.id)) servable.push(promotion.id);
  }
  return excluded ? servable : candidates;
}
