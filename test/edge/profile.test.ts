import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { CATALOGUE_KEY } from "../../shared/catalogue-document.ts";
import { compileFeatureSpec, DEFAULT_FEATURE_SPEC, withProfileFields } from "../../shared/features.ts";
import { EXAMPLE_PROFILE_FIELDS } from "../../shared/profile.ts";
import { call, contextBody, drain, harness, postJson, unpublish, type Harness } from "./helpers.ts";

const profileSpec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS));

async function declareProfile() {
  await env.POLICY.put(
    CATALOGUE_KEY,
    JSON.stringify({ promotions: DEFAULT_CATALOGUE, profile: EXAMPLE_PROFILE_FIELDS }),
  );
}

function profiled(profile: Record<string, unknown>, headers: Record<string, string> = {}): Request {
  const request = postJson("/v1/decide", contextBody({ cartValue: 150, profile }));
  for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
  return request;
}

async function expectRefused(h: Harness, request: Request, error: string, field: string) {
  const response = await call(h, request);
  expect(response.status).toBe(400);
  const body = await response.json<{ error: string; field: string; message: string }>();
  expect(body).toMatchObject({ error, field });
  expect(body.message).toContain(field);
}

/** The D1 row of a decision, as stored. */
async function storedRow(h: Harness, id: string): Promise<Record<string, unknown>> {
  expect((await drain(h)).ackAll).toBe(true);
  const row = await env.DB.prepare("SELECT * FROM decisions WHERE id = ?").bind(id).first<Record<string, unknown>>();
  expect(row).not.toBeNull();
  return row!;
}

beforeEach(async () => {
  await unpublish(env.POLICY);
  await declareProfile();
});
afterEach(() => env.POLICY.delete(CATALOGUE_KEY));

describe("profile fields", () => {
  test("each field is read from its source, encoded, and logged; a sensitive one only bucketed", async () => {
    const h = harness();
    const response = await call(
      h,
      profiled({ tier: "gold" }, { "x-shop-member": "true", cookie: "shop_orders=1234.5; other=1" }),
    );
    expect(response.status).toBe(200);
    const { decisionId } = await response.json<{ decisionId: string }>();
    const row = await storedRow(h, decisionId);

    expect(row.feature_spec_hash).toBe(profileSpec.hash);
    expect(profileSpec.hash).not.toBe(compileFeatureSpec(DEFAULT_FEATURE_SPEC).hash);
    const context = JSON.parse(String(row.context)) as { profile: Record<string, unknown> };
    expect(context.profile).toEqual({ member: true, tier: "gold", lifetimeOrders: "≥10" });
    // The raw value is nowhere in the row.
    expect(JSON.stringify(row)).not.toContain("1234.5");

    const features = JSON.parse(String(row.features)) as number[];
    expect(features).toHaveLength(profileSpec.width);
    const lit = profileSpec.slotNames.filter((name, i) => name.startsWith("profile.") && features[i] === 1);
    expect(lit).toEqual(["profile.member=true", "profile.tier=gold", "profile.lifetimeOrders∈≥10"]);
  });

  test("a field the request does not carry is encoded as missing", async () => {
    const h = harness();
    const response = await call(h, profiled({}));
    expect(response.status).toBe(200);
    const row = await storedRow(h, (await response.json<{ decisionId: string }>()).decisionId);
    expect(JSON.parse(String(row.context)).profile).toEqual({ member: null, tier: null, lifetimeOrders: null });
  });

  test("an unknown field, a field sent from the wrong source, and a bad value are 400s that name them", async () => {
    const h = harness();
    await expectRefused(h, profiled({ tier: "gold", loyalty: 3 }), "unknown_profile_field", "context.profile.loyalty");
    await expectRefused(h, profiled({ member: true }), "unknown_profile_field", "context.profile.member");
    await expectRefused(h, profiled({ tier: "platinum" }), "invalid_profile_value", "context.profile.tier");
    await expectRefused(h, profiled({}, { "x-shop-member": "maybe" }), "invalid_profile_value", "header x-shop-member");
    await expectRefused(h, profiled({}, { cookie: "shop_orders=lots" }), "invalid_profile_value", "cookie shop_orders");
  });

  test("with no profile fields declared, a body profile is refused", async () => {
    await env.POLICY.delete(CATALOGUE_KEY);
    await expectRefused(harness(), profiled({ tier: "gold" }), "unknown_profile_field", "context.profile.tier");
  });
});
