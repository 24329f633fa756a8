import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { DEFAULT_CATALOGUE_DOCUMENT } from "../../shared/catalogue-document.ts";
import { controlPropensity, makeMeta } from "../shared/helpers.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { encodePolicy, type Policy } from "../../shared/policy/index.ts";
import { POLICY_POINTER_KEY, policyVersionKey } from "../../shared/policy-store.ts";
import { PolicyCache } from "../../edge/policy/policy-cache.ts";
import {
  call,
  contextBody,
  corruptedPolicyBytes,
  decide,
  harness,
  nonFinitePolicyBytes,
  publish,
  publishBytes,
  qtablePolicy,
  unpublish,
  type Harness,
} from "./helpers.ts";

beforeEach(async () => {
  await unpublish(env.POLICY);
  vi.restoreAllMocks();
});

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** The whole of GET /v1/policy, as an operator sees it. */
async function policyStatus(h: Harness) {
  const response = await call(h, new Request("https://promo.example/v1/policy", { headers: ADMIN }));
  expect(response.status).toBe(200);
  return response.json<Record<string, unknown>>();
}

/** Serves a decision whose every eligible action is allowed, so that the served promotion shows the policy. */
async function served(h: Harness) {
  return (await decide(h, contextBody({ cartValue: 150 }))).answer;
}

describe("policy loading", () => {
  test("with nothing in KV it serves the control with exploration, logged with its true propensities", async () => {
    const h = harness();
    const answer = await served(h);
    expect(answer).toMatchObject({ policyVersion: "fallback" });
    expect(answer.propensity).toBeCloseTo(controlPropensity(answer.promotion.id, 7), 12);
    expect(await policyStatus(h)).toMatchObject({
      version: "fallback",
      algorithm: "control",
      control: DEFAULT_CONTROL,
      source: "fallback",
      actions: DEFAULT_CATALOGUE.map((p) => p.id),
      exploration: { type: "epsilon", epsilon: DEFAULT_CONTROL.exploration },
      featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
      loadedAt: null,
      lastError: null,
    });
  });

  test("a pointer swap serves the new version, and the decisions follow it", async () => {
    const h = harness();
    await publish(env.POLICY, qtablePolicy("v1-bundle", "bundle"));
    expect(await served(h)).toMatchObject({
      policyVersion: "v1-bundle",
      promotion: { id: "bundle" },
      propensity: 1,
      explored: false,
    });

    await publish(env.POLICY, qtablePolicy("v2-pct20", "pct20"));
    expect(await served(h)).toMatchObject({ policyVersion: "v2-pct20", promotion: { id: "pct20" }, propensity: 1 });
    const status = await policyStatus(h);
    expect(status).toMatchObject({
      version: "v2-pct20",
      algorithm: "qtable",
      source: "kv",
      createdAt: "2026-11-01T00:00:00.000Z",
      lastError: null,
    });
    expect(status.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof status.loadedAt).toBe("string");

    // Rollback is a pointer move too.
    await publish(env.POLICY, qtablePolicy("v1-bundle", "bundle"));
    expect(await served(h)).toMatchObject({ policyVersion: "v1-bundle", promotion: { id: "bundle" } });
  });

  test("/v1/policy shows everyone only what is served; the rest needs ADMIN_TOKEN, and a wrong one is a 401", async () => {
    const h = harness();
    await publish(env.POLICY, qtablePolicy("v-public", "bundle"));
    const open = await call(h, new Request("https://promo.example/v1/policy"));
    expect(open.status).toBe(200);
    const view = await open.json<Record<string, unknown>>();
    expect(Object.keys(view).sort()).toEqual(["algorithm", "createdAt", "source", "version"]);
    expect(view).toMatchObject({ version: "v-public", algorithm: "qtable", source: "kv" });
    const wrong = await call(
      h,
      new Request("https://promo.example/v1/policy", { headers: { authorization: "Bearer nope" } }),
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: "invalid_admin_token" });
    expect(await policyStatus(h)).toMatchObject({ version: "v-public", lastError: null, logLoss: { lost: 0 } });
  });

  test("/v1/policy reports the training summary and offline estimate", async () => {
    const h = harness();
    const policy = qtablePolicy("v-trained", "pct10");
    const estimate = { estimator: "snips", value: 1.2, lower: 0.9, upper: 1.5, level: 0.95 };
    const trained: Policy = {
      ...policy,
      meta: {
        ...policy.meta,
        training: {
          dataFrom: "2026-10-01",
          dataTo: "2026-10-31",
          decisions: 1000,
          transitions: 900,
          gamma: 0.9,
          backend: "cpu",
          estimate,
        },
      },
    };
    await publish(env.POLICY, trained);
    expect(await policyStatus(h)).toMatchObject({
      version: "v-trained",
      offlineEstimate: estimate,
      training: { decisions: 1000, backend: "cpu" },
    });
  });

  describe("a bad publication keeps the last good policy and says why", () => {
    const good = qtablePolicy("good", "fixed5");

    async function expectKept(h: Harness, reason: RegExp) {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      expect(await served(h)).toMatchObject({ policyVersion: "good", promotion: { id: "fixed5" } });
      const status = await policyStatus(h);
      expect(status).toMatchObject({ version: "good", source: "kv" });
      expect(status.lastError).toMatch(reason);
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(reason));
    }

    test("bytes that do not match the pointer's sha256", async () => {
      const h = harness();
      await publish(env.POLICY, good);
      await served(h);
      await publishBytes(env.POLICY, "v-sha", encodePolicy(qtablePolicy("v-sha", "gift")), { sha256: "0".repeat(64) });
      await expectKept(h, /policy:v-sha hashes to [0-9a-f]{64}, the pointer says 0{64}/);
    });

    test("a corrupted body under a matching sha256 (bad checksum)", async () => {
      const h = harness();
      await publish(env.POLICY, good);
      await served(h);
      const bytes = corruptedPolicyBytes("v-crc", "gift");
      await publishBytes(env.POLICY, "v-crc", bytes);
      await expectKept(h, /checksum_mismatch/);
    });

    test("a policy holding a NaN or an infinite weight, under a valid checksum", async () => {
      for (const [version, value] of [
        ["v-nan", Number.NaN],
        ["v-inf", Number.POSITIVE_INFINITY],
      ] as const) {
        const h = harness();
        await publish(env.POLICY, good);
        await served(h);
        const bytes = nonFinitePolicyBytes(version, "gift", value);
        await publishBytes(env.POLICY, version, bytes);
        await expectKept(h, /non_finite/);
      }
    });

    test("a network whose finite weights overflow: the control decides, the fault is reported, /healthz is degraded", async () => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const h = harness();
      // Every Q-value is +Infinity: a softmax over them is NaN, which used to answer every decide with a 500.
      const width = DEFAULT_COMPILED_SPEC.width;
      const actions = DEFAULT_CATALOGUE.length;
      const overflowing: Policy = {
        meta: makeMeta({ version: "v-overflow", exploration: { type: "softmax", temperature: 1, floor: 0 } }),
        model: {
          algorithm: "dqn",
          layers: [
            {
              inputs: width,
              outputs: actions,
              kernel: new Float32Array(width * actions).fill(3e38),
              bias: new Float32Array(actions),
            },
          ],
        },
      };
      await publish(env.POLICY, overflowing);
      const { answer, row } = await decide(h, contextBody({ cartValue: 150 }));
      expect(answer.policyVersion).toBe("fallback");
      expect(row).toMatchObject({ policyVersion: "fallback", propensity: answer.propensity });
      expect(answer.propensity).toBeCloseTo(controlPropensity(answer.promotion.id, actions), 12);
      expect((await policyStatus(h)).lastError).toMatch(/v-overflow gave no eligible action with a valid probability/);
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/v-overflow gave no eligible action/));
      const health = await call(h, new Request("https://promo.example/healthz"));
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        ok: false,
        status: "degraded",
        problems: [expect.stringMatching(/^policy: /)],
      });
    });

    test("a policy trained on another feature spec", async () => {
      const h = harness();
      await publish(env.POLICY, good);
      await served(h);
      const other = qtablePolicy("v-spec", "gift");
      await publish(env.POLICY, { ...other, meta: { ...other.meta, featureSpecHash: "0123456789abcdef" } });
      await expectKept(h, /spec_mismatch/);
    });

    test("a policy over other action ids", async () => {
      const h = harness();
      await publish(env.POLICY, good);
      await served(h);
      const other = qtablePolicy("v-actions", "gift");
      await publish(env.POLICY, {
        ...other,
        meta: { ...other.meta, actions: [...other.meta.actions.slice(0, 6), "mystery"] },
      });
      await expectKept(h, /action_mismatch/);
    });

    test("a pointer that is not JSON, or names a missing version", async () => {
      const h = harness();
      await publish(env.POLICY, good);
      await served(h);
      await env.POLICY.put(POLICY_POINTER_KEY, "{nope");
      await expectKept(h, /policy:current is not JSON/);
      await env.POLICY.put(POLICY_POINTER_KEY, JSON.stringify({ version: "ghost", sha256: "a".repeat(64) }));
      await expectKept(h, /policy:ghost is missing/);
    });

    test("with no good policy yet, a bad one leaves the fallback serving", async () => {
      const h = harness();
      vi.spyOn(console, "error").mockImplementation(() => {});
      await publishBytes(env.POLICY, "v-junk", new TextEncoder().encode("not a policy at all"));
      expect(await served(h)).toMatchObject({ policyVersion: "fallback" });
      expect(await policyStatus(h)).toMatchObject({
        source: "fallback",
        lastError: expect.stringMatching(/bad_magic/),
      });
    });

    test("once the pointer is fixed, the error clears", async () => {
      const h = harness();
      vi.spyOn(console, "error").mockImplementation(() => {});
      await publish(env.POLICY, good);
      await served(h);
      await env.POLICY.put(POLICY_POINTER_KEY, "{nope");
      await served(h);
      await publish(env.POLICY, good);
      expect(await policyStatus(h)).toMatchObject({ version: "good", lastError: null });
    });
  });
});

/** A KV namespace that counts reads per key. */
function countingKv(counts: Map<string, number>): KVNamespace {
  return new Proxy(env.POLICY, {
    get(target, prop) {
      if (prop === "get") {
        return (key: string, type: "text" | "arrayBuffer") => {
          counts.set(key, (counts.get(key) ?? 0) + 1);
          return type === "arrayBuffer" ? target.get(key, "arrayBuffer") : target.get(key, "text");
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("the isolate cache", () => {
  test("reads the pointer at most once per refresh window and decodes a version once", async () => {
    const counts = new Map<string, number>();
    const kv = countingKv(counts);
    const cache = new PolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC);
    await publish(env.POLICY, qtablePolicy("v-a", "pct10"));

    const t0 = 1_000_000;
    expect((await cache.current(kv, t0, 30_000)).engine.version).toBe("v-a");
    await publish(env.POLICY, qtablePolicy("v-b", "pct20"));
    for (const t of [t0 + 1, t0 + 10_000, t0 + 29_999])
      expect((await cache.current(kv, t, 30_000)).engine.version).toBe("v-a");
    expect(counts.get(POLICY_POINTER_KEY)).toBe(1);

    expect((await cache.current(kv, t0 + 30_000, 30_000)).engine.version).toBe("v-b");
    expect(counts.get(POLICY_POINTER_KEY)).toBe(2);

    // The pointer has not moved: it is read again, the policy is not.
    const before = await cache.current(kv, t0 + 60_000, 30_000);
    const after = await cache.current(kv, t0 + 90_000, 30_000);
    expect(after.engine).toBe(before.engine);
    expect(after.policy).toBe(before.policy);
    expect(counts.get(POLICY_POINTER_KEY)).toBe(4);
    expect(counts.get(policyVersionKey("v-a"))).toBe(1);
    expect(counts.get(policyVersionKey("v-b"))).toBe(1);
  });

  test("through the Worker, a swap is not seen within POLICY_REFRESH_SECONDS", async () => {
    const h = harness({ POLICY_REFRESH_SECONDS: "30" });
    await publish(env.POLICY, qtablePolicy("v-first", "bundle"));
    expect(await served(h)).toMatchObject({ policyVersion: "v-first" });
    await publish(env.POLICY, qtablePolicy("v-second", "pct20"));
    expect(await served(h)).toMatchObject({ policyVersion: "v-first", promotion: { id: "bundle" } });
    expect(await policyStatus(h)).toMatchObject({ version: "v-first" });

    // A refresh window of 0 reads the pointer on every request.
    const eager = harness({ POLICY_REFRESH_SECONDS: "0" }, h.deps);
    expect(await served(eager)).toMatchObject({ policyVersion: "v-second", promotion: { id: "pct20" } });
  });

  test("the scheduled handler checks the pointer, so a swap is loaded before any request", async () => {
    const logs = vi.spyOn(console, "log").mockImplementation(() => {});
    const h = harness({ POLICY_REFRESH_SECONDS: "3600" });
    await publish(env.POLICY, qtablePolicy("v-before", "fixed5"));
    await served(h);
    await publish(env.POLICY, qtablePolicy("v-scheduled", "gift"));
    await h.worker.scheduled(createScheduledController(), h.env);
    expect(logs).toHaveBeenCalledWith("scheduled policy check: serving v-scheduled (kv)");
    expect(await served(h)).toMatchObject({ policyVersion: "v-scheduled" });
  });

  test("a KV outage keeps the policy it has", async () => {
    const h = harness();
    await publish(env.POLICY, qtablePolicy("v-steady", "gift"));
    expect(await served(h)).toMatchObject({ policyVersion: "v-steady" });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const down = new Proxy(env.POLICY, {
      get(target, prop) {
        if (prop === "get") return () => Promise.reject(new Error("KV unreachable"));
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const outage = harness({ POLICY: down }, h.deps);
    expect(await served(outage)).toMatchObject({ policyVersion: "v-steady", promotion: { id: "gift" } });
    expect(await policyStatus(outage)).toMatchObject({
      version: "v-steady",
      lastError: "KV read failed: KV unreachable",
    });
  });
});
