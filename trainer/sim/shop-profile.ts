import type { CompiledFeatureSpec } from "../../shared/features.ts";
import type { Profile, ProfileValue } from "../../shared/profile.ts";
import type { VisitorProfile } from "./traffic.ts";

/**
 * The profile fields a spec declares, as the simulated shop would fill them in. The simulator knows
 * the three fields of EXAMPLE_PROFILE_FIELDS (member, tier, lifetimeOrders: orders before the
 * simulation plus those placed in it); any other field is one the shop cannot fill (null).
 */
export function shopProfile(spec: CompiledFeatureSpec, visitor: VisitorProfile, purchases: number): Profile {
  const known: Readonly<Record<string, ProfileValue>> = {
    member: visitor.shop.member,
    tier: visitor.shop.tier,
    lifetimeOrders: visitor.shop.priorOrders + purchases,
  };
  return Object.fromEntries(spec.profile.map(({ spec: field }) => [field.name, known[field.name] ?? null]));
}
