import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { EXPERIMENT_KEY, type Experiment } from "../../shared/experiment.ts";
import { sha256Hex } from "../../shared/hash.ts";
import { encodePolicy } from "../../shared/policy/index.ts";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { DEFAULT_CATALOGUE_DOCUMENT } from "../../shared/catalogue-document.ts";
import { servedCatalogue } from "../../edge/policy/kv-catalogue.ts";
import { contextSchema } from "../../shared/context.ts";
import { createDecisionEngine } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC, DEFAULT_FEATURE_SPEC } from "../../shared/features.ts";
import { ExperimentCache } from "../../edge/experiment/experiment-cache.ts";
import { decodeShadow } from "../../shared/shadow.ts";
import {
  call,
  contextBody,
  decide,
  harness,
  postJson,
  publishBytes,
  qtablePolicy,
  unpublish,
  type Harness,
} from "./helpers.ts";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

beforeEach(async () => {
  await unpublish(env.POLICY);
  await env.POLICY.delete(EXPERIMENT_KEY);
  vi.restoreAllMocks();
});

async function startExperiment(experiment: Experiment): Promise<void> {
  await env.POLICY.put(EXPERIMENT_KEY, JSON.stringify(experiment));
}

/** Stores a policy version without moving the pointer, as `promo publish --canary` does; returns its arm target. */
async function storeVersion(version: string, favoured: string) {
  const bytes = encodePolicy(qtablePolicy(version, favoured));
  await env.POLICY.put(`policy:${version}`, bytes);
  return { type: "policy" as const, version, sha256: await sha256Hex(bytes) };
}

const threeArms = async (): Promise<Experiment> => ({
  id: "exp-1",
  startedAt: "2026-11-01T00:00:00.000Z",
  arms: [
    { name: "control", serves: { type: "control" }, weight: 1 },
    { name: "fixed5", serves: { type: "promotion", id: "fixed5" }, weight: 1 },
    { name: "candidate", serves: await storeVersion("cand-1", "free_shipping"), weight: 2 },
  ],
});

async function adminStatus(h: Harness) {
  return (await call(h, new Request("https://promo.example/v1/policy", { headers: ADMIN }))).json<{
    experiment: Experiment | null;
    experimentError: string | null;
  }>();
}

/** The POLICY namespace, with the first read of the experiment key held until `release` is called. */
function holdingFirstExperimentRead() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markRead!: () => void;
  const read = new Promise<void>((resolve) => (markRead = resolve));
  let held = false;
  const kv = new Proxy(env.POLICY, {
    get(target, prop) {
      if (prop === "get") {
        return async (key: string, type: "text" | "arrayBuffer") => {
          const value = type === "arrayBuffer" ? await target.get(key, "arrayBuffer") : await target.get(key, "text");
          if (key === EXPERIMENT_KEY && !held) {
            held = true;
            markRead();
            await released;
          }
          return value;
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv, read, release };
}

const promotionArms = (id: string): Experiment => ({
  id,
  startedAt: "2026-11-01T00:00:00.000Z",
  arms: [
    { name: "control", serves: { type: "control" }, weight: 1 },
    { name: "bundle", serves: { type: "promotion", id: "bundle" }, weight: 1 },
  ],
});

test("the isolate's experiment cache: a slow read of an older experiment never replaces a newer one", async () => {
  const cache = new ExperimentCache();
  const catalogue = servedCatalogue(DEFAULT_CATALOGUE_DOCUMENT, null, DEFAULT_FEATURE_SPEC);
  const { kv, read, release } = holdingFirstExperimentRead();
  await startExperiment(promotionArms("exp-old"));
  const slow = cache.current(kv, 0, 0, catalogue);
  await read;
  await startExperiment(promotionArms("exp-new"));
  expect((await cache.current(kv, 1, 0, catalogue))?.experiment.id).toBe("exp-new");
  release();
  await slow;
  expect(cache.running?.experiment.id).toBe("exp-new");
});

describe("experiments at the edge", () => {
  test("assignment is balanced by weight over 10,000 visitors (chi-square), and each decision logs its arm", async () => {
    const h = harness();
    await startExperiment(await threeArms());
    const counts = new Map<string, number>();
    const visitors = 10_000;
    for (let start = 0; start < visitors; start += 250) {
      // Concurrent, like real traffic: their rows leave in shared batches, all sent once every call is done.
      const answers = await Promise.all(
        Array.from({ length: 250 }, () => call(h, postJson("/v1/decide", contextBody({ cartValue: 150 })))),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      for (const message of h.sent.splice(0)) {
        if (message.type !== "decision") continue;
        expect(message.row.experimentId).toBe("exp-1");
        counts.set(message.row.arm!, (counts.get(message.row.arm!) ?? 0) + 1);
      }
    }
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(visitors);
    const expected = { control: 0.25, fixed5: 0.25, candidate: 0.5 };
    let chiSquare = 0;
    for (const [arm, share] of Object.entries(expected)) {
      const e = share * visitors;
      chiSquare += ((counts.get(arm) ?? 0) - e) ** 2 / e;
    }
    // 2 degrees of freedom: P(χ² > 18.42) = 1e-4 when assignment is as weighted.
    expect(chiSquare).toBeLessThan(18.42);
  }, 60_000);

  test("a visitor stays in its arm across visits, and each arm serves what it names", async () => {
    const h = harness();
    await startExperiment(await threeArms());
    const seen = new Map<string, string>();
    for (let v = 0; v < 40; v++) {
      let { cookie, row } = await decide(h, contextBody({ cartValue: 150 }));
      const arm = row.arm!;
      for (let visit = 0; visit < 3; visit++) {
        ({ cookie, row } = await decide(h, contextBody({ cartValue: 150 }), { cookie }));
        expect(row.arm).toBe(arm);
        if (!row.explored) seen.set(arm, row.action);
        if (arm === "candidate") expect(row.policyVersion).toBe("cand-1");
      }
    }
    expect(Object.fromEntries(seen)).toEqual({ control: "none", fixed5: "fixed5", candidate: "free_shipping" });
  }, 60_000);

  test("without an experiment the current policy serves and rows carry no arm; deleting the key ends one", async () => {
    const h = harness();
    expect((await decide(h, contextBody())).row).toMatchObject({ experimentId: null, arm: null });
    await startExperiment(await threeArms());
    expect((await decide(h, contextBody())).row.experimentId).toBe("exp-1");
    await env.POLICY.delete(EXPERIMENT_KEY);
    expect((await decide(h, contextBody())).row).toMatchObject({ experimentId: null, arm: null });
  });

  test("a malformed experiment keeps the last good one running, and says why in /v1/policy and /healthz", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const h = harness();
    const good = await threeArms();
    await startExperiment(good);
    await decide(h, contextBody());

    const bad: [string, RegExp][] = [
      ["{not json", /experiment:current is not JSON/],
      [JSON.stringify({ ...good, arms: good.arms.slice(0, 1) }), /arms/],
      [JSON.stringify({ ...good, arms: [good.arms[0], { ...good.arms[1], name: "control" }] }), /unique/],
      [
        JSON.stringify({
          ...good,
          id: "exp-2",
          arms: [good.arms[0], { name: "ghost", serves: { type: "promotion", id: "nope" }, weight: 1 }],
        }),
        /"nope" is not a promotion/,
      ],
      [
        JSON.stringify({
          ...good,
          id: "exp-3",
          arms: [
            good.arms[0],
            { name: "gone", serves: { type: "policy", version: "missing", sha256: "0".repeat(64) }, weight: 1 },
          ],
        }),
        /policy:missing is missing/,
      ],
    ];
    for (const [text, reason] of bad) {
      await env.POLICY.put(EXPERIMENT_KEY, text);
      expect((await decide(h, contextBody())).row.experimentId).toBe("exp-1");
      const status = await adminStatus(h);
      expect(status.experiment?.id).toBe("exp-1");
      expect(status.experimentError).toMatch(reason);
      const health = await (await call(h, new Request("https://promo.example/healthz"))).json<{ problems: string[] }>();
      expect(health.problems).toEqual([expect.stringMatching(/^experiment: /)]);
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(reason));
    }
  });

  test("the public /v1/policy does not show the experiment", async () => {
    const h = harness();
    await startExperiment(await threeArms());
    const response = await call(h, new Request("https://promo.example/v1/policy"));
    expect(await response.json()).not.toHaveProperty("experiment");
    expect((await call(h, postJson("/v1/decide", contextBody()))).status).toBe(200);
  });
});

test("a policy arm whose bytes do not match its sha256 is refused like a bad publication", async () => {
  vi.spyOn(console, "error").mockImplementation(() => {});
  const h = harness();
  const bytes = encodePolicy(qtablePolicy("cand-x", "gift"));
  await publishBytes(env.POLICY, "cand-x", bytes);
  await unpublish(env.POLICY);
  await startExperiment({
    id: "exp-sha",
    startedAt: "2026-11-01T00:00:00.000Z",
    arms: [
      { name: "control", serves: { type: "control" }, weight: 1 },
      { name: "candidate", serves: { type: "policy", version: "cand-x", sha256: "f".repeat(64) }, weight: 1 },
    ],
  });
  expect((await decide(h, contextBody())).row.experimentId).toBeNull();
  expect((await adminStatus(h)).experimentError).toMatch(
    /policy:cand-x hashes to [0-9a-f]{64}, the pointer says f{64}/,
  );
});

test("a shadow policy's exact probabilities are logged beside every decision, under the served mask", async () => {
  const h = harness();
  const shadowPolicy = qtablePolicy("shadow-1", "pct10", { type: "softmax", temperature: 0.7, floor: 0.01 });
  const bytes = encodePolicy(shadowPolicy);
  await env.POLICY.put("policy:shadow-1", bytes);
  await startExperiment({
    id: "exp-shadow",
    startedAt: "2026-11-01T00:00:00.000Z",
    shadow: { version: "shadow-1", sha256: await sha256Hex(bytes) },
    arms: [{ name: "control", serves: { type: "control" }, weight: 1 }],
  });
  const independent = createDecisionEngine(shadowPolicy, DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC);
  const ids = DEFAULT_CATALOGUE.map((p) => p.id);
  let cookie: string | undefined;
  for (let i = 0; i < 12; i++) {
    const decided = await decide(h, contextBody({ cartValue: 10 + 20 * i }), cookie ? { cookie } : {});
    cookie = decided.cookie;
    const { row } = decided;
    expect(row).toMatchObject({ experimentId: "exp-shadow", arm: "control", policyVersion: "fallback" });
    const shadow = decodeShadow(row.shadow!, ids.length)!;
    expect(shadow.version).toBe("shadow-1");
    const eligible = new Set(JSON.parse(row.eligible) as string[]);
    const mask = Uint8Array.from(ids, (id) => (eligible.has(id) ? 1 : 0));
    const context = contextSchema.parse(JSON.parse(row.context));
    expect(shadow.probabilities).toEqual(independent.probabilities(context, mask));
    expect(shadow.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    ids.forEach((id, a) => {
      if (!eligible.has(id)) expect(shadow.probabilities[a]).toBe(0);
    });
  }
}, 30_000);
