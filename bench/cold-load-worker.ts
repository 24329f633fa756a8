/**
 * Runs the edge's own policy loader (edge/policy/kv-policy.ts: readPolicyPointer, then fetchPolicy:
 * KV get, SHA-256 against the pointer, decodePolicy with the feature-spec and action checks) inside
 * workerd, against a Miniflare KV namespace, and times it there.
 *
 * With `?probe=<key>` it only times k KV gets of that (small) key: the floor of a local KV read.
 *
 * workerd's clock ticks in whole milliseconds, so one request runs `k` cold loads back to back (each
 * from nothing: the functions keep no cache) and reports the elapsed time; the caller divides by k.
 */
import { DEFAULT_ACTION_IDS } from "../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { POLICY_POINTER_KEY } from "../shared/policy-store.ts";
import { fetchPolicy, readPolicyPointer } from "../edge/policy/kv-policy.ts";
import type { ColdLoadReport } from "./worker-reports.ts";

interface Env {
  POLICY: KVNamespace;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const k = Math.max(1, Math.min(1000, Number(url.searchParams.get("k") ?? "1") || 1));
    // The floor under any KV read here: k gets of a tiny key, nothing else.
    const probe = url.searchParams.get("probe");
    if (probe !== null) {
      const start = performance.now();
      for (let i = 0; i < k; i++) await env.POLICY.get(probe, "text");
      return Response.json({ k, elapsedMs: performance.now() - start });
    }
    const expect = { featureSpecHash: DEFAULT_COMPILED_SPEC.hash, actions: DEFAULT_ACTION_IDS };
    let pointerMs = 0;
    let fetchVerifyDecodeMs = 0;
    let version = "";
    const start = performance.now();
    for (let i = 0; i < k; i++) {
      const t0 = performance.now();
      const pointer = await readPolicyPointer(env.POLICY);
      if (pointer === null) return new Response(`no ${POLICY_POINTER_KEY}`, { status: 404 });
      const t1 = performance.now();
      const policy = await fetchPolicy(env.POLICY, pointer, expect);
      const t2 = performance.now();
      pointerMs += t1 - t0;
      fetchVerifyDecodeMs += t2 - t1;
      version = policy.meta.version;
    }
    const report: ColdLoadReport = { k, elapsedMs: performance.now() - start, pointerMs, fetchVerifyDecodeMs, version };
    return Response.json(report);
  },
};
