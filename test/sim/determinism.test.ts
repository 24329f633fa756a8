import { describe, expect, test } from "vitest";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { fixedChooser, uniformChooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";

const catalogue = DEFAULT_SIM_MODEL.catalogue;
const uniform = () => uniformChooser(catalogue, DEFAULT_COMPILED_SPEC);

describe("simulateTraffic determinism", () => {
  test("the same seed gives identical logs and outcomes", () => {
    const a = simulateTraffic({ seed: 7, visitors: 200, policy: uniform() });
    const b = simulateTraffic({ seed: 7, visitors: 200, policy: uniform() });
    expect(a.steps.length).toBeGreaterThan(200);
    expect(b.steps.map((s) => [s.decision, s.outcomes])).toEqual(a.steps.map((s) => [s.decision, s.outcomes]));
    expect(b.visitors).toEqual(a.visitors);
  });

  test("another seed gives other traffic", () => {
    const a = simulateTraffic({ seed: 7, visitors: 50, policy: uniform() });
    const b = simulateTraffic({ seed: 8, visitors: 50, policy: uniform() });
    expect(b.steps.map((s) => s.decision.context)).not.toEqual(a.steps.map((s) => s.decision.context));
  });

  test("policies meet the same visitors: the same arrivals, pages and carts (common random numbers)", () => {
    const none = simulateTraffic({ seed: 3, visitors: 300, policy: fixedChooser("none", catalogue) });
    const pct20 = simulateTraffic({ seed: 3, visitors: 300, policy: fixedChooser("pct20", catalogue) });
    const first = (run: typeof none) =>
      run.steps
        .filter((s) => s.context.visits === 1 && s.context.promosSeen7d === 0 && s.context.lastPromotion === null)
        .map((s) => {
          const { device, country, localHour, weekday, page, referrer, cartValue } = s.context;
          return [s.visitor, s.decision.ts, device, country, localHour, weekday, page, referrer, cartValue];
        });
    expect(first(pct20)).toEqual(first(none));
    // The page views both visitors have in common are the same page views, whatever was shown before.
    const common = (run: typeof none) =>
      new Map(run.steps.map((s) => [s.decision.id, [s.decision.ts, s.context.page, s.context.cartValue]]));
    const a = common(none);
    let shared = 0;
    for (const [id, view] of common(pct20)) {
      if (!a.has(id)) continue;
      shared++;
      expect(view).toEqual(a.get(id));
    }
    expect(shared).toBeGreaterThan(500);
  });
});
