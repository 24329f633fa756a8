import { describe, expect, test, vi } from "vitest";
import { DEFAULT_CATALOGUE_DOCUMENT } from "../../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { ExperimentCache } from "../../edge/experiment/experiment-cache.ts";
import { LogShipper } from "../../edge/logging/log-shipper.ts";
import { PolicyCache, type PolicySnapshot } from "../../edge/policy/policy-cache.ts";
import { call, contextBody, harness, postJson } from "./helpers.ts";

async function expectJsonError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = await response.json<{ error: string; message: string }>();
  expect(body.error).toBe(error);
  return body;
}

/** A policy cache that breaks in a way no handler expects. */
class BrokenPolicyCache extends PolicyCache {
  override async current(): Promise<PolicySnapshot> {
    throw new TypeError("Cannot read properties of undefined (reading 'engine') at secret/internal/path.ts:42");
  }
}

describe("routing and errors", () => {
  const h = harness();

  test("GET /healthz", async () => {
    const response = await call(h, new Request("https://promo.example/healthz"));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      status: "ok",
      problems: [],
      logLoss: { queueSendFailures: 0, writtenDirect: 0, lost: 0, deadLettered: 0, replayed: 0, capped: 0 },
    });
  });

  test("an unknown route is a JSON 404", async () => {
    const body = await expectJsonError(await call(h, new Request("https://promo.example/v2/decide")), 404, "not_found");
    expect(body.message).toContain("/v2/decide");
  });

  test("a wrong method is a JSON 405 with Allow", async () => {
    const get = await call(h, new Request("https://promo.example/v1/decide"));
    await expectJsonError(get, 405, "method_not_allowed");
    expect(get.headers.get("allow")).toBe("POST");
    const del = await call(h, new Request("https://promo.example/v1/policy", { method: "DELETE" }));
    await expectJsonError(del, 405, "method_not_allowed");
    expect(del.headers.get("allow")).toBe("GET, HEAD");
    await expectJsonError(
      await call(h, new Request("https://promo.example/v1/outcome", { method: "PUT", body: "{}" })),
      405,
      "method_not_allowed",
    );
  });

  test("an unexpected failure is a JSON 500 that leaks nothing", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = harness(
      {},
      {
        policies: new BrokenPolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC),
        experiments: new ExperimentCache(),
        logs: new LogShipper(),
      },
    );
    const response = await call(broken, postJson("/v1/decide", contextBody()));
    const text = await response.clone().text();
    await expectJsonError(response, 500, "internal_error");
    expect(text).not.toMatch(/secret|internal\/path|TypeError|at /);
    expect(errors).toHaveBeenCalled();
    errors.mockRestore();
  });

  test("a missing signing key is reported as a misconfiguration, not a crash", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const keyless = harness({ DECISION_SIGNING_KEY: "" });
    await expectJsonError(await call(keyless, postJson("/v1/decide", contextBody())), 500, "misconfigured");
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("DECISION_SIGNING_KEY"));
    const badVar = harness({ MAX_BODY_BYTES: "lots" });
    await expectJsonError(await call(badVar, postJson("/v1/decide", contextBody())), 500, "misconfigured");
    errors.mockRestore();
  });

  test("client mistakes are never 500", async () => {
    const bodies = [
      "null",
      "42",
      '"text"',
      "{}",
      '{"context": null}',
      '{"context": {"page": "cart", "cartValue": 1e999}}',
      "\u0000",
      '{"context": {"page": {"$gt": ""}}}',
    ];
    for (const body of bodies) {
      for (const path of ["/v1/decide", "/v1/outcome"]) {
        const response = await call(h, postJson(path, body));
        expect({ path, body, status: response.status }).toEqual({ path, body, status: 400 });
      }
    }
    const binary = new Request("https://promo.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: new Uint8Array([0xff, 0xfe, 0x00]),
    });
    await expectJsonError(await call(h, binary), 400, "invalid_json");
  });

  test("a body that is not declared JSON is a 415, so another site's form post or text/plain beacon cannot post", async () => {
    const body = JSON.stringify({ decisionId: "x.y.z", kind: "conversion", value: 1e9 });
    for (const path of ["/v1/decide", "/v1/outcome"]) {
      for (const type of [null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
        const request = new Request(`https://promo.example${path}`, {
          method: "POST",
          headers: type === null ? {} : { "content-type": type },
          body,
        });
        if (type === null) request.headers.delete("content-type");
        await expectJsonError(await call(h, request), 415, "unsupported_media_type");
      }
    }
    const structured = postJson(
      "/v1/decide",
      { context: { page: "home", cartValue: 0 } },
      {
        headers: { "content-type": "application/vnd.shop+json" },
      },
    );
    expect((await call(h, structured)).status).toBe(200);
  });
});
