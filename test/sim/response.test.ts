import { describe, expect, test } from "vitest";
import type { Context } from "../../shared/context.ts";
import { NEW_VISITOR } from "../../shared/context.ts";
import { rewardOf } from "../../shared/reward.ts";
import type { LatentState } from "../../trainer/sim/latent.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { streamRng } from "../../trainer/sim/random.ts";
import { attributedOutcomes, drawOutcome, respond } from "../../trainer/sim/response.ts";

const model = DEFAULT_SIM_MODEL;
const action = (id: string) => model.catalogue.findIndex((p) => p.id === id);
const context = (page: Context["page"], cartValue: number): Context => ({
  device: "mobile",
  country: "US",
  localHour: 20,
  weekday: 3,
  page,
  referrer: "search",
  cartValue,
  ...NEW_VISITOR,
});

const cases: { name: string; state: LatentState; context: Context; action: number }[] = [
  {
    name: "price-sensitive, cart page, 20% off",
    state: { segment: 0, reference: 0, fatigue: 0, loyalty: 0 },
    context: context("cart", 64.99),
    action: action("pct20"),
  },
  {
    name: "loyal, conditioned, product page, nothing",
    state: { segment: 1, reference: 2, fatigue: 1, loyalty: 2 },
    context: context("product", 99.99),
    action: action("none"),
  },
  {
    name: "deal hunter, checkout, bundle",
    state: { segment: 2, reference: 2, fatigue: 0, loyalty: 0 },
    context: context("checkout", 179.99),
    action: action("bundle"),
  },
  {
    name: "browser, tired, home page, free shipping",
    state: { segment: 3, reference: 0, fatigue: 3, loyalty: 0 },
    context: context("home", 0),
    action: action("free_shipping"),
  },
];

describe("exact expected reward", () => {
  test.each(cases)("matches the Monte Carlo mean of realised rewards: $name", ({ state, context, action }) => {
    const response = respond(model, state, context, action);
    const rng = streamRng(99, action, state.segment);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const outcomes = attributedOutcomes(drawOutcome(response, rng), response.orderValue);
      const r = rewardOf(outcomes, action, model.catalogue, model.reward);
      sum += r;
      sumSq += r * r;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(mean - response.expectedReward)).toBeLessThan(4 * se);
  });

  test("a discount beyond expectation lifts conversion; conditioning makes full price disappoint", () => {
    const fresh: LatentState = { segment: 0, reference: 0, fatigue: 0, loyalty: 0 };
    const conditioned: LatentState = { ...fresh, reference: 2 };
    const view = context("product", 44.99);
    expect(respond(model, fresh, view, action("pct10")).conversion).toBeGreaterThan(
      respond(model, fresh, view, action("none")).conversion,
    );
    expect(respond(model, conditioned, view, action("none")).conversion).toBeLessThan(
      respond(model, fresh, view, action("none")).conversion,
    );
    // At a reference of 10%, 10% off is no longer a surprise: it converts like full price did before.
    expect(respond(model, conditioned, view, action("pct10")).conversion).toBeCloseTo(
      respond(model, fresh, view, action("none")).conversion,
      10,
    );
  });
});
