import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { compileFeatureSpec, DEFAULT_FEATURE_SPEC, encodeFeatures, withProfileFields } from "../../shared/features.ts";
import {
  EXAMPLE_PROFILE_FIELDS,
  loggableProfile,
  parseProfileValue,
  profileFieldsSchema,
  profileFieldWidth,
  profileSlot,
  ProfileValueError,
  type ProfileFieldSpec,
} from "../../shared/profile.ts";
import { BASE_CONTEXT } from "./helpers.ts";

const [member, tier, lifetimeOrders] = EXAMPLE_PROFILE_FIELDS as [ProfileFieldSpec, ProfileFieldSpec, ProfileFieldSpec];
const base = compileFeatureSpec(DEFAULT_FEATURE_SPEC);
const spec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS));

describe("profile encoding", () => {
  test("the profile slots follow the spec's own, one-hot per field, the last slot for missing", () => {
    expect(spec.width).toBe(base.width + 3 + 4 + 5);
    const x = encodeFeatures(spec, { ...BASE_CONTEXT, profile: { member: false, tier: "silver", lifetimeOrders: 2 } });
    expect(Array.from(x.subarray(0, base.width))).toEqual(Array.from(encodeFeatures(base, BASE_CONTEXT)));
    expect(Array.from(x.subarray(base.width))).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    const none = encodeFeatures(spec, BASE_CONTEXT);
    expect(Array.from(none.subarray(base.width))).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  test("number buckets: value < edge[i] falls in bucket i", () => {
    expect([0, 0.5, 1, 2.99, 3, 9, 10, 1e9].map((v) => profileSlot(lifetimeOrders, v))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3,
    ]);
    expect(profileSlot(lifetimeOrders, null)).toBe(profileFieldWidth(lifetimeOrders) - 1);
  });

  test("a sensitive number is logged as its bucket's label, which encodes to the same slot", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (value) => {
        const logged = loggableProfile(EXAMPLE_PROFILE_FIELDS, { member: true, tier: "gold", lifetimeOrders: value });
        expect(typeof logged.lifetimeOrders).toBe("string");
        expect(logged.lifetimeOrders).not.toContain(String(value));
        expect(profileSlot(lifetimeOrders, logged.lifetimeOrders)).toBe(profileSlot(lifetimeOrders, value));
        expect(logged).toMatchObject({ member: true, tier: "gold" });
      }),
    );
  });

  test("the fields are part of the spec's hash", () => {
    expect(spec.hash).not.toBe(base.hash);
    const moved = compileFeatureSpec(
      withProfileFields(DEFAULT_FEATURE_SPEC, [
        member,
        tier,
        { name: "lifetimeOrders", type: "number", buckets: [1, 5, 10], source: lifetimeOrders.source, sensitive: true },
      ]),
    );
    expect(moved.hash).not.toBe(spec.hash);
    expect(compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, [])).hash).toBe(base.hash);
  });
});

describe("profile values and declarations", () => {
  test.each([
    [member, "1", true],
    [member, false, false],
    [tier, " gold ", "gold"],
    [lifetimeOrders, "12", 12],
    [lifetimeOrders, undefined, null],
  ] as const)("%o reads %o as %o", (field, raw, want) => {
    expect(parseProfileValue(field, raw, "here")).toBe(want);
  });

  test.each([
    [member, "yes"],
    [tier, "platinum"],
    [tier, 3],
    [lifetimeOrders, "many"],
    [lifetimeOrders, ""],
  ] as const)("%o refuses %o, naming where it came from", (field, raw) => {
    expect(() => parseProfileValue(field, raw, "header x-here")).toThrow(ProfileValueError);
    expect(() => parseProfileValue(field, raw, "header x-here")).toThrow(/^header x-here: /);
  });

  test("declarations are checked: names unique, buckets ascending, sources well named", () => {
    expect(profileFieldsSchema.safeParse(EXAMPLE_PROFILE_FIELDS).success).toBe(true);
    expect(profileFieldsSchema.safeParse([member, member]).success).toBe(false);
    expect(profileFieldsSchema.safeParse([{ ...lifetimeOrders, type: "number", buckets: [3, 1] }]).success).toBe(false);
    expect(profileFieldsSchema.safeParse([{ ...member, source: { from: "header", header: "X Bad" } }]).success).toBe(
      false,
    );
    expect(profileFieldsSchema.safeParse([{ ...tier, type: "colour" }]).success).toBe(false);
  });
});
