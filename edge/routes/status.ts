import type { Context } from "hono";
import { readConfig } from "../config.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** GET /v1/policy: what this isolate serves, where it came from, and why a newer one was refused. */
export function policyHandler(deps: EdgeDeps) {
  return async (c: Context<AppEnv>) => {
    const config = readConfig(c.env);
    const served = await deps.policies.current(c.env.POLICY, Date.now(), config.policyRefreshMs);
    const meta = served.policy?.meta ?? null;
    c.header("Cache-Control", "no-store");
    return c.json({
      version: served.engine.version,
      algorithm: served.policy?.model.algorithm ?? "control",
      control: served.engine.control,
      createdAt: meta?.createdAt ?? null,
      actions: meta?.actions ?? deps.policies.actionIds,
      exploration: served.engine.exploration,
      training: meta?.training ?? null,
      offlineEstimate: meta?.training?.estimate ?? null,
      featureSpecHash: deps.policies.spec.hash,
      sha256: served.pointer?.sha256 ?? null,
      source: served.source,
      loadedAt: iso(served.loadedAt),
      checkedAt: iso(deps.policies.checkedAt),
      lastError: served.lastError,
      logLoss: deps.logs.loss,
    });
  };
}

/** GET /healthz: the isolate answers, and says whether logging has had to fall back or lost rows. */
export function healthHandler(deps: EdgeDeps) {
  return (c: Context<AppEnv>) => {
    c.header("Cache-Control", "no-store");
    return c.json({ ok: true, logLoss: deps.logs.loss });
  };
}
