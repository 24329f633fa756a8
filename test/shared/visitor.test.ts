import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS } from "../../shared/catalogue.ts";
import { visitorStateSchema } from "../../shared/context.ts";
import {
  exposureCounts,
  newVisitorMemory,
  recordExposure,
  recordPageView,
  recordPurchase,
  VISIT_GAP_MS,
  visitorState,
  type VisitorMemory,
} from "../../shared/visitor.ts";
import { DAY_MS } from "./helpers.ts";

const MIN = 60_000;
/** Midnight UTC at the start of a day, so that day boundaries are easy to place. */
const T0 = 20_000 * DAY_MS;

function firstView(now = T0): VisitorMemory {
  return recordPageView(newVisitorMemory("visitor-1", now), now);
}

describe("visits", () => {
  test("a new visitor has no visits until the first page view opens one", () => {
    const fresh = newVisitorMemory("v", T0);
    expect(fresh.visits).toBe(0);
    expect(visitorState(fresh, T0).visits).toBe(0);
    const m = recordPageView(fresh, T0);
    expect(m.visits).toBe(1);
    expect(m.previousVisitEnd).toBeNull();
    expect(m.lastSeen).toBe(T0);
    expect(visitorState(m, T0).daysSinceLastVisit).toBeNull();
  });

  test("page views within the 30-minute gap stay in the same visit; a longer gap opens a new one", () => {
    expect(VISIT_GAP_MS).toBe(30 * MIN);
    let m = firstView();
    m = recordPageView(m, T0 + 10 * MIN);
    expect(m.visits).toBe(1);
    m = recordPageView(m, T0 + 40 * MIN); // exactly 30 minutes after the last view: still the same visit
    expect(m.visits).toBe(1);
    expect(m.previousVisitEnd).toBeNull();
    m = recordPageView(m, T0 + 70 * MIN + 1); // 30 minutes and 1 ms
    expect(m.visits).toBe(2);
    expect(m.previousVisitEnd).toBe(T0 + 40 * MIN);
    expect(m.lastSeen).toBe(T0 + 70 * MIN + 1);
  });

  test("the gap is measured from the last page view, not from the start of the visit", () => {
    let m = firstView();
    for (let k = 1; k <= 12; k++) m = recordPageView(m, T0 + k * 20 * MIN);
    expect(m.visits).toBe(1);
  });

  test("previousVisitEnd is the last view of the visit before, and daysSinceLastVisit measures from it", () => {
    let m = firstView();
    m = recordPageView(m, T0 + 5 * MIN);
    m = recordPageView(m, T0 + 2 * DAY_MS); // visit 2
    m = recordPageView(m, T0 + 2 * DAY_MS + 10 * MIN);
    expect(m.visits).toBe(2);
    expect(m.previousVisitEnd).toBe(T0 + 5 * MIN);
    const now = T0 + 2 * DAY_MS + 10 * MIN;
    expect(visitorState(m, now).daysSinceLastVisit).toBeCloseTo((now - (T0 + 5 * MIN)) / DAY_MS, 12);
    m = recordPageView(m, T0 + 5 * DAY_MS); // visit 3
    expect(m.visits).toBe(3);
    expect(m.previousVisitEnd).toBe(T0 + 2 * DAY_MS + 10 * MIN);
    expect(visitorState(m, T0 + 5 * DAY_MS).daysSinceLastVisit).toBeCloseTo(3 - 10 / (24 * 60), 12);
  });
});

describe("exposures", () => {
  test("are counted per promotion; 'none' is remembered as the last promotion but not counted", () => {
    let m = firstView();
    m = recordExposure(m, "pct10", T0 + MIN);
    m = recordExposure(m, "pct10", T0 + 2 * MIN);
    m = recordExposure(m, "gift", T0 + 3 * MIN);
    expect(m.lastPromotion).toBe("gift");
    m = recordExposure(m, "none", T0 + 4 * MIN);
    expect(m.lastPromotion).toBe("none");
    expect(exposureCounts(m, T0 + 5 * MIN)).toEqual({ pct10: 2, gift: 1 });
    const state = visitorState(m, T0 + 5 * MIN);
    expect(state.promosSeen7d).toBe(3);
    expect(state.lastPromotion).toBe("none");
  });

  test("count for 7 calendar days, then drop out", () => {
    let m = firstView(T0 + 9 * 3600_000);
    m = recordExposure(m, "pct20", T0 + 9 * 3600_000); // day D, 09:00
    m = recordExposure(m, "fixed5", T0 + 2 * DAY_MS); // day D+2
    expect(exposureCounts(m, T0 + 6 * DAY_MS + DAY_MS - 1)).toEqual({ pct20: 1, fixed5: 1 }); // last ms of D+6
    expect(exposureCounts(m, T0 + 7 * DAY_MS)).toEqual({ fixed5: 1 }); // D+7
    expect(visitorState(m, T0 + 7 * DAY_MS).promosSeen7d).toBe(1);
    expect(exposureCounts(m, T0 + 9 * DAY_MS)).toEqual({});
    expect(visitorState(m, T0 + 9 * DAY_MS).promosSeen7d).toBe(0);
    // The last promotion is remembered beyond the window.
    expect(visitorState(m, T0 + 30 * DAY_MS).lastPromotion).toBe("fixed5");
  });

  test("a page view prunes the stored exposures, so the cookie does not grow", () => {
    let m = firstView();
    for (let d = 0; d < 30; d++) m = recordExposure(m, "pct10", T0 + d * DAY_MS);
    m = recordPageView(m, T0 + 30 * DAY_MS);
    expect(m.exposures.pct10).toEqual([20_024, 20_025, 20_026, 20_027, 20_028, 20_029]);
    m = recordPageView(m, T0 + 60 * DAY_MS);
    expect(m.exposures).toEqual({});
  });
});

describe("purchases", () => {
  test("count, and daysSinceLastPurchase measures from the last one", () => {
    let m = firstView();
    expect(visitorState(m, T0).daysSinceLastPurchase).toBeNull();
    m = recordPurchase(m, T0 + DAY_MS);
    m = recordPurchase(m, T0 + 3 * DAY_MS);
    const state = visitorState(m, T0 + 4.5 * DAY_MS);
    expect(state.purchases).toBe(2);
    expect(state.daysSinceLastPurchase).toBeCloseTo(1.5, 12);
  });

  test("a clock running backwards never gives negative days", () => {
    const m = recordPurchase(firstView(), T0 + DAY_MS);
    expect(visitorState(m, T0).daysSinceLastPurchase).toBe(0);
  });
});

describe("visitor memory as a whole", () => {
  type Event =
    { dt: number; kind: "view" } | { dt: number; kind: "exposure"; id: string } | { dt: number; kind: "purchase" };
  const eventArb: fc.Arbitrary<Event> = fc.oneof(
    fc.record({ dt: fc.integer({ min: 0, max: 3 * DAY_MS }), kind: fc.constant("view" as const) }),
    fc.record({ dt: fc.integer({ min: 0, max: 90 * MIN }), kind: fc.constant("view" as const) }),
    fc.record({
      dt: fc.integer({ min: 0, max: 2 * DAY_MS }),
      kind: fc.constant("exposure" as const),
      id: fc.constantFrom(...DEFAULT_ACTION_IDS),
    }),
    fc.record({ dt: fc.integer({ min: 0, max: 5 * DAY_MS }), kind: fc.constant("purchase" as const) }),
  );

  test("matches a naive model of sessions, 7-day exposure counts and purchases", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), fc.integer({ min: 0, max: 10 * DAY_MS }), (events, tail) => {
        let now = T0;
        let m = newVisitorMemory("v", now);
        const views: number[] = [];
        const shown: { id: string; at: number }[] = [];
        let purchases = 0;
        let lastPromotion: string | null = null;
        for (const e of events) {
          now += e.dt;
          const previous = m;
          const snapshot = structuredClone(m);
          if (e.kind === "view") {
            m = recordPageView(m, now);
            views.push(now);
          } else if (e.kind === "exposure") {
            m = recordExposure(m, e.id, now);
            if (e.id !== "none") shown.push({ id: e.id, at: now });
            lastPromotion = e.id;
          } else {
            m = recordPurchase(m, now);
            purchases++;
          }
          expect(previous).toEqual(snapshot); // the old value is untouched
        }
        now += tail;

        let visits = 0;
        let previousVisitEnd: number | null = null;
        views.forEach((t, i) => {
          if (i === 0 || t - views[i - 1]! > VISIT_GAP_MS) {
            if (i > 0) previousVisitEnd = views[i - 1]!;
            visits++;
          }
        });
        const today = Math.floor(now / DAY_MS);
        const recent = shown.filter((s) => Math.floor(s.at / DAY_MS) > today - 7);

        const state = visitorState(m, now);
        expect(visitorStateSchema.safeParse(state).success).toBe(true);
        expect(state.visits).toBe(visits);
        expect(m.previousVisitEnd).toBe(previousVisitEnd);
        expect(state.purchases).toBe(purchases);
        expect(state.lastPromotion).toBe(lastPromotion);
        expect(state.promosSeen7d).toBe(recent.length);
        const counts: Record<string, number> = {};
        for (const s of recent) counts[s.id] = (counts[s.id] ?? 0) + 1;
        expect(exposureCounts(m, now)).toEqual(counts);
      }),
      { numRuns: 300 },
    );
  });

  test("never mutates the memory it is given (it is a cookie value)", () => {
    const m = recordExposure(firstView(), "pct10", T0 + MIN);
    const snapshot = structuredClone(m);
    recordPageView(m, T0 + 8 * DAY_MS);
    recordExposure(m, "pct10", T0 + 2 * MIN);
    recordExposure(m, "gift", T0 + 2 * MIN);
    recordPurchase(m, T0 + 3 * MIN);
    visitorState(m, T0 + 9 * DAY_MS);
    exposureCounts(m, T0 + 9 * DAY_MS);
    expect(m).toEqual(snapshot);
  });

  test("survives a JSON round trip (the cookie encoding)", () => {
    let m = firstView();
    m = recordExposure(m, "bundle", T0 + MIN);
    m = recordPurchase(m, T0 + 2 * MIN);
    const back = JSON.parse(JSON.stringify(m)) as VisitorMemory;
    expect(back).toEqual(m);
    expect(visitorState(back, T0 + DAY_MS)).toEqual(visitorState(m, T0 + DAY_MS));
  });
});
