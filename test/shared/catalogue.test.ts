import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_ACTION_IDS,
  DEFAULT_CATALOGUE,
  eligibleMask,
  isEligible,
  promotionCost,
  type Catalogue,
  type ExposureCounts,
  type Promotion,
} from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { BASE_CONTEXT, contextArb } from "./helpers.ts";

const byId = (id: string): Promotion => {
  const p = DEFAULT_CATALOGUE.find((x) => x.id === id);
  if (!p) throw new Error(id);
  return p;
};
const ctx = (overrides: Partial<Context>): Context => ({ ...BASE_CONTEXT, ...overrides });
const eligibleIds = (mask: Uint8Array, catalogue: Catalogue = DEFAULT_CATALOGUE) =>
  catalogue.filter((_, i) => mask[i]).map((p) => p.id);

const exposuresArb: fc.Arbitrary<ExposureCounts> = fc.dictionary(
  fc.constantFrom(...DEFAULT_ACTION_IDS, "retired"),
  fc.integer({ min: 0, max: 5 }),
);
const candidatesArb = fc.option(fc.subarray([...DEFAULT_ACTION_IDS, "unknown"]), { nil: undefined });

describe("default catalogue", () => {
  test("starts with 'none', has unique ids, and its action ids follow its order", () => {
    expect(DEFAULT_CATALOGUE[0].id).toBe("none");
    expect(DEFAULT_CATALOGUE[0].kind).toBe("none");
    expect(DEFAULT_ACTION_IDS).toEqual(DEFAULT_CATALOGUE.map((p) => p.id));
    expect(new Set(DEFAULT_ACTION_IDS).size).toBe(DEFAULT_ACTION_IDS.length);
    for (const id of DEFAULT_ACTION_IDS) expect(id.length).toBeLessThanOrEqual(64); // fits Context.lastPromotion
  });
});

describe("eligibility", () => {
  test("minimum cart value: below is out, at or above is in", () => {
    const none: ExposureCounts = {};
    expect(isEligible(byId("pct20"), ctx({ cartValue: 59.99 }), none)).toBe(false);
    expect(isEligible(byId("pct20"), ctx({ cartValue: 60 }), none)).toBe(true);
    expect(isEligible(byId("gift"), ctx({ cartValue: 79 }), none)).toBe(false);
    expect(isEligible(byId("gift"), ctx({ cartValue: 80 }), none)).toBe(true);
    expect(isEligible(byId("pct10"), ctx({ cartValue: 0 }), none)).toBe(true);
  });

  test("countries: only the listed ones", () => {
    const fs = byId("free_shipping");
    for (const country of ["US", "GB", "DE", "FR", "NL", "ES", "IT"])
      expect(isEligible(fs, ctx({ country }), {}), country).toBe(true);
    for (const country of ["CA", "JP", "ZZ"]) expect(isEligible(fs, ctx({ country }), {}), country).toBe(false);
    // No country rule means everywhere.
    expect(isEligible(byId("pct10"), ctx({ country: "ZZ" }), {})).toBe(true);
  });

  test("exposure cap: reached means out; other promotions' exposures do not count", () => {
    const rich = ctx({ cartValue: 500 });
    expect(isEligible(byId("pct20"), rich, { pct20: 2 })).toBe(true);
    expect(isEligible(byId("pct20"), rich, { pct20: 3 })).toBe(false);
    expect(isEligible(byId("pct20"), rich, { pct20: 4 })).toBe(false);
    expect(isEligible(byId("pct20"), rich, { gift: 10, pct10: 10 })).toBe(true);
    expect(isEligible(byId("gift"), rich, { gift: 1 })).toBe(true);
    expect(isEligible(byId("gift"), rich, { gift: 2 })).toBe(false);
    // No cap means unlimited.
    expect(isEligible(byId("pct10"), rich, { pct10: 1000 })).toBe(true);
  });

  test("all rules must hold at once", () => {
    const p: Promotion = {
      id: "p",
      kind: "percent_off",
      display: { headline: "p" },
      cost: { type: "free" },
      attributes: { depthPct: 10, fixedValue: 0, shipping: false, basketUplift: 1 },
      eligibility: { minCartValue: 10, countries: ["GB"], maxExposuresPerVisitor7d: 1 },
    };
    expect(isEligible(p, ctx({ cartValue: 10, country: "GB" }), {})).toBe(true);
    expect(isEligible(p, ctx({ cartValue: 9, country: "GB" }), {})).toBe(false);
    expect(isEligible(p, ctx({ cartValue: 10, country: "US" }), {})).toBe(false);
    expect(isEligible(p, ctx({ cartValue: 10, country: "GB" }), { p: 1 })).toBe(false);
  });

  test("the mask follows the catalogue order", () => {
    const mask = eligibleMask(DEFAULT_CATALOGUE, ctx({ cartValue: 50, country: "CA" }), { pct20: 0 });
    expect(mask).toBeInstanceOf(Uint8Array);
    expect([...mask]).toEqual([1, 1, 0, 1, 0, 1, 0]);
    expect(eligibleIds(eligibleMask(DEFAULT_CATALOGUE, ctx({ cartValue: 100, country: "DE" }), {}))).toEqual([
      ...DEFAULT_ACTION_IDS,
    ]);
  });

  test("'none' is always eligible, even with no room for it among the candidates", () => {
    fc.assert(
      fc.property(contextArb, exposuresArb, candidatesArb, (c, exposures, candidates) => {
        const mask = eligibleMask(DEFAULT_CATALOGUE, c, exposures, candidates);
        expect(mask[0]).toBe(1);
        expect(mask).toHaveLength(DEFAULT_CATALOGUE.length);
      }),
    );
    expect([...eligibleMask(DEFAULT_CATALOGUE, BASE_CONTEXT, { none: 99 }, [])]).toEqual([1, 0, 0, 0, 0, 0, 0]);
  });

  test("candidates only narrow: the mask with candidates is the mask without them, restricted to the candidates", () => {
    fc.assert(
      fc.property(
        contextArb,
        exposuresArb,
        fc.subarray([...DEFAULT_ACTION_IDS, "unknown"]),
        (c, exposures, candidates) => {
          const all = eligibleMask(DEFAULT_CATALOGUE, c, exposures);
          const narrowed = eligibleMask(DEFAULT_CATALOGUE, c, exposures, candidates);
          DEFAULT_CATALOGUE.forEach((p, i) => {
            const expected = i === 0 ? 1 : all[i]! && candidates.includes(p.id) ? 1 : 0;
            expect(narrowed[i], p.id).toBe(expected);
          });
        },
      ),
    );
  });

  test("a candidate that is not eligible stays out", () => {
    const mask = eligibleMask(DEFAULT_CATALOGUE, ctx({ cartValue: 10 }), {}, ["gift", "pct10"]);
    expect(eligibleIds(mask)).toEqual(["none", "pct10"]);
  });

  test("each mask entry agrees with isEligible", () => {
    fc.assert(
      fc.property(contextArb, exposuresArb, (c, exposures) => {
        const mask = eligibleMask(DEFAULT_CATALOGUE, c, exposures);
        DEFAULT_CATALOGUE.forEach((p, i) => {
          if (i > 0) expect(mask[i]).toBe(isEligible(p, c, exposures) ? 1 : 0);
        });
      }),
    );
  });
});

describe("promotionCost", () => {
  const promo = (cost: Promotion["cost"]): Promotion => ({
    id: "x",
    kind: "gift",
    display: { headline: "" },
    cost,
    attributes: { depthPct: 0, fixedValue: 4, shipping: false, basketUplift: 1 },
    eligibility: {},
  });

  test("free costs nothing", () => {
    expect(promotionCost(promo({ type: "free" }), 123)).toBe(0);
    expect(promotionCost(byId("none"), 500)).toBe(0);
  });

  test("percent of order", () => {
    expect(promotionCost(promo({ type: "percent_of_order", rate: 0.1 }), 250)).toBeCloseTo(25, 12);
    expect(promotionCost(byId("pct20"), 100)).toBeCloseTo(20, 12);
    expect(promotionCost(byId("pct20"), 0)).toBe(0);
  });

  test("fixed amount, only when there is an order", () => {
    expect(promotionCost(promo({ type: "fixed", amount: 5 }), 80)).toBe(5);
    expect(promotionCost(promo({ type: "fixed", amount: 5 }), 0)).toBe(0);
    expect(promotionCost(byId("free_shipping"), 12)).toBe(6);
    expect(promotionCost(byId("gift"), 100)).toBe(4);
  });

  test("percent of order, capped", () => {
    const bundle = byId("bundle"); // 15% up to 30
    expect(promotionCost(bundle, 100)).toBeCloseTo(15, 12);
    expect(promotionCost(bundle, 200)).toBeCloseTo(30, 12);
    expect(promotionCost(bundle, 1000)).toBe(30);
    expect(promotionCost(bundle, 0)).toBe(0);
  });

  test("is never negative and never exceeds what the model allows", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), (order) => {
        for (const p of DEFAULT_CATALOGUE) {
          const cost = promotionCost(p, order);
          expect(cost).toBeGreaterThanOrEqual(0);
          if (p.cost.type === "percent_of_order_capped") expect(cost).toBeLessThanOrEqual(p.cost.cap);
          if (p.cost.type === "percent_of_order" || p.cost.type === "percent_of_order_capped") {
            expect(cost).toBeLessThanOrEqual(order * p.cost.rate);
          }
        }
      }),
    );
  });
});
