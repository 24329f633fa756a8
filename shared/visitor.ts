import type { ExposureCounts } from "./catalogue.ts";
import type { VisitorState } from "./context.ts";

const DAY_MS = 86_400_000;
/** Page views further apart than this start a new visit (the usual web-analytics session gap). */
export const VISIT_GAP_MS = 30 * 60_000;
const EXPOSURE_WINDOW_DAYS = 7;

/**
 * What the edge remembers about a visitor between page views. It travels in the signed cookie,
 * so it stays small: exposures are kept as day numbers, pruned to the last 7 days.
 */
export interface VisitorMemory {
  /** Random visitor id; only its HMAC is ever logged. */
  id: string;
  visits: number;
  /** Last page view, ms. */
  lastSeen: number;
  /** Last page view of the previous visit, ms; null during the first visit. */
  previousVisitEnd: number | null;
  purchases: number;
  lastPurchase: number | null;
  lastPromotion: string | null;
  /** Promotion id → day numbers (ms / 1 day) on which it was shown. */
  exposures: Record<string, number[]>;
}

export function newVisitorMemory(id: string, now: number): VisitorMemory {
  return {
    id,
    visits: 0,
    lastSeen: now,
    previousVisitEnd: null,
    purchases: 0,
    lastPurchase: null,
    lastPromotion: null,
    exposures: {},
  };
}

/** Records a page view at `now`, opening a new visit after a long enough gap. */
export function recordPageView(memory: VisitorMemory, now: number): VisitorMemory {
  const newVisit = memory.visits === 0 || now - memory.lastSeen > VISIT_GAP_MS;
  return {
    ...memory,
    visits: newVisit ? memory.visits + 1 : memory.visits,
    previousVisitEnd: newVisit && memory.visits > 0 ? memory.lastSeen : memory.previousVisitEnd,
    lastSeen: now,
    exposures: pruneExposures(memory.exposures, now),
  };
}

/** Records that `promotionId` was shown at `now` ("none" is remembered as the last promotion, not as an exposure). */
export function recordExposure(memory: VisitorMemory, promotionId: string, now: number): VisitorMemory {
  if (promotionId === "none") return { ...memory, lastPromotion: "none" };
  const day = Math.floor(now / DAY_MS);
  return {
    ...memory,
    lastPromotion: promotionId,
    exposures: { ...memory.exposures, [promotionId]: [...(memory.exposures[promotionId] ?? []), day] },
  };
}

export function recordPurchase(memory: VisitorMemory, now: number): VisitorMemory {
  return { ...memory, purchases: memory.purchases + 1, lastPurchase: now };
}

function pruneExposures(exposures: Record<string, number[]>, now: number): Record<string, number[]> {
  const oldest = Math.floor(now / DAY_MS) - EXPOSURE_WINDOW_DAYS + 1;
  const kept: Record<string, number[]> = {};
  for (const [id, days] of Object.entries(exposures)) {
    const recent = days.filter((d) => d >= oldest);
    if (recent.length > 0) kept[id] = recent;
  }
  return kept;
}

export function exposureCounts(memory: VisitorMemory, now: number): ExposureCounts {
  const counts: Record<string, number> = {};
  for (const [id, days] of Object.entries(pruneExposures(memory.exposures, now))) counts[id] = days.length;
  return counts;
}

/** The visitor half of a decision context, as of `now`. */
export function visitorState(memory: VisitorMemory, now: number): VisitorState {
  const daysSince = (t: number | null) => (t === null ? null : Math.max(0, (now - t) / DAY_MS));
  const counts = exposureCounts(memory, now);
  return {
    visits: memory.visits,
    daysSinceLastVisit: daysSince(memory.previousVisitEnd),
    purchases: memory.purchases,
    daysSinceLastPurchase: daysSince(memory.lastPurchase),
    promosSeen7d: Object.values(counts).reduce((a, b) => a + b, 0),
    lastPromotion: memory.lastPromotion,
  };
}
