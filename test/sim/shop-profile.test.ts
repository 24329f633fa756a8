import { describe, expect, test } from "vitest";
import {
  compileFeatureSpec,
  DEFAULT_COMPILED_SPEC,
  DEFAULT_FEATURE_SPEC,
  withProfileFields,
} from "../../shared/features.ts";
import { EXAMPLE_PROFILE_FIELDS } from "../../shared/profile.ts";
import { uniformChooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { compileTraffic, drawVisitor } from "../../trainer/sim/traffic.ts";

const profileSpec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS));
const catalogue = DEFAULT_SIM_MODEL.catalogue;

describe("the shop's profile of simulated visitors", () => {
  test("membership and tier follow the segment's rates: informative about who is loyal, not revealing", () => {
    const traffic = compileTraffic(DEFAULT_SIM_MODEL);
    const n = 40_000;
    const loyal = DEFAULT_SIM_MODEL.segments.findIndex((s) => s.id === "loyal");
    let members = 0;
    let loyalMembers = 0;
    let loyalNonMembers = 0;
    const membersBySegment = new Array<number>(DEFAULT_SIM_MODEL.segments.length).fill(0);
    const visitorsBySegment = new Array<number>(DEFAULT_SIM_MODEL.segments.length).fill(0);
    for (let i = 0; i < n; i++) {
      const v = drawVisitor(traffic, 5, i);
      visitorsBySegment[v.segment]!++;
      expect(v.shop.tier === null).toBe(!v.shop.member);
      expect(Number.isInteger(v.shop.priorOrders) && v.shop.priorOrders >= 0).toBe(true);
      if (v.shop.member) {
        members++;
        membersBySegment[v.segment]!++;
        if (v.segment === loyal) loyalMembers++;
      } else if (v.segment === loyal) loyalNonMembers++;
    }
    DEFAULT_SIM_MODEL.segments.forEach((s, i) => {
      const rate = membersBySegment[i]! / visitorsBySegment[i]!;
      expect(Math.abs(rate - s.memberRate)).toBeLessThan(
        4 * Math.sqrt((s.memberRate * (1 - s.memberRate)) / visitorsBySegment[i]!),
      );
    });
    // P(loyal | member) ≈ 0.41 against P(loyal | not a member) ≈ 0.11 with the default rates.
    expect(loyalMembers / members).toBeGreaterThan(0.35);
    expect(loyalNonMembers / (n - members)).toBeLessThan(0.15);
  });

  test("profiles are drawn from their own stream: the same visitors, decisions and outcomes with or without them", () => {
    const plain = simulateTraffic({ seed: 9, visitors: 150, policy: uniformChooser(catalogue, DEFAULT_COMPILED_SPEC) });
    const profiled = simulateTraffic({
      seed: 9,
      visitors: 150,
      policy: uniformChooser(catalogue, profileSpec),
      spec: profileSpec,
    });
    expect(profiled.steps.map((s) => [s.decision.id, s.action, s.outcomes])).toEqual(
      plain.steps.map((s) => [s.decision.id, s.action, s.outcomes]),
    );
    expect(plain.steps.every((s) => s.context.profile === undefined)).toBe(true);
    for (const step of profiled.steps) {
      const { member, tier, lifetimeOrders } = step.context.profile!;
      expect(typeof member).toBe("boolean");
      expect(tier === null || ["bronze", "silver", "gold"].includes(tier as string)).toBe(true);
      expect(lifetimeOrders as number).toBeGreaterThanOrEqual(step.context.purchases);
    }
  });
});
