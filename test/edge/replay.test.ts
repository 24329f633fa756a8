import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { inArray } from "drizzle-orm";
import { beforeEach, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { contextSchema } from "../../shared/context.ts";
import { createDecisionEngine } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { decodePolicy, type Policy } from "../../shared/policy/index.ts";
import { decisions } from "../../shared/schema.ts";
import { policyVersionKey } from "../../shared/policy-store.ts";
import { ACTION_IDS, contextBody, decide, drain, harness, publish, qtablePolicy, unpublish } from "./helpers.ts";

beforeEach(() => unpublish(env.POLICY));

/** A small DQN with fixed pseudo-random weights, exploring by softmax with a floor: propensities are not round numbers. */
function dqnPolicy(version: string): Policy {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const layer = (inputs: number, outputs: number) => ({
    inputs,
    outputs,
    kernel: Float32Array.from({ length: inputs * outputs }, random),
    bias: Float32Array.from({ length: outputs }, random),
  });
  return {
    meta: {
      version,
      featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
      actions: ACTION_IDS,
      exploration: { type: "softmax", temperature: 0.5, floor: 0.02 },
      createdAt: "2026-11-02T00:00:00.000Z",
      training: null,
    },
    model: { algorithm: "dqn", layers: [layer(DEFAULT_COMPILED_SPEC.width, 16), layer(16, ACTION_IDS.length)] },
  };
}

const PAGES = ["home", "product", "cart", "checkout", "search"] as const;

test("a logged decision re-derives exactly from its row: same action, propensity, exploration flag and features", async () => {
  const h = harness();
  const ids: string[] = [];
  let cookie: string | undefined;
  const decideMany = async (n: number, candidates?: string[]) => {
    for (let i = 0; i < n; i++) {
      const body = contextBody(
        { page: PAGES[i % PAGES.length], cartValue: (i * 37) % 160, localHour: i % 24 },
        candidates,
      );
      const decided = await decide(
        h,
        body,
        cookie === undefined ? { cf: { country: i % 2 ? "GB" : "JP" } } : { cookie },
      );
      ids.push(decided.answer.decisionId);
      cookie = decided.cookie;
    }
  };

  await decideMany(8);
  await publish(env.POLICY, dqnPolicy("replay-dqn"));
  await decideMany(20);
  await decideMany(6, ["pct10", "gift", "bundle"]);
  await publish(env.POLICY, qtablePolicy("replay-qtable", "pct20", { type: "epsilon", epsilon: 0.3, floor: 0.05 }));
  await decideMany(12);
  await drain(h);

  const rows = await drizzle(env.DB).select().from(decisions).where(inArray(decisions.id, ids));
  expect(rows).toHaveLength(ids.length);
  expect(new Set(rows.map((r) => r.policyVersion))).toEqual(new Set(["fallback", "replay-dqn", "replay-qtable"]));
  expect(rows.some((r) => r.propensity !== 1 && r.propensity !== 1 / JSON.parse(r.eligible).length)).toBe(true);

  for (const row of rows) {
    // Everything replay needs is in the row and in KV: the context, the id (the draw), the eligible
    // set (the mask, caps included) and the immutable policy version.
    const bytes =
      row.policyVersion === "fallback"
        ? null
        : await env.POLICY.get(policyVersionKey(row.policyVersion), "arrayBuffer");
    const policy = bytes === null ? null : decodePolicy(new Uint8Array(bytes));
    const engine = createDecisionEngine(policy, DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC);
    const replayed = engine.decide(contextSchema.parse(JSON.parse(row.context)), {}, row.id, JSON.parse(row.eligible));

    expect({
      id: row.id,
      action: replayed.promotion.id,
      propensity: replayed.propensity,
      explored: replayed.explored,
      stateKey: replayed.stateKey,
    }).toEqual({
      id: row.id,
      action: row.action,
      propensity: row.propensity,
      explored: row.explored,
      stateKey: row.stateKey,
    });
    expect(Array.from(replayed.features)).toEqual(JSON.parse(row.features));
  }
});
