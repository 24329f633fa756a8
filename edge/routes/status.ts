import type { Context } from "hono";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { readConfig } from "../config.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";
import { ApiError } from "../http/api-error.ts";
import { bearerMatches } from "../http/bearer.ts";

/** The monitor's latest look, and how the last experiment ended: an admin reads why it acted. */
async function experimentHistory(kv: KVNamespace) {
  const registry = new ExperimentRegistry(kv);
  const [monitorLook, lastExperiment] = await Promise.all([
    registry.look().catch((error: unknown) => ({ unreadable: String(error) })),
    registry.last().catch((error: unknown) => ({ unreadable: String(error) })),
  ]);
  return { monitorLook, lastExperiment };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * GET /v1/policy: what this isolate serves. Anyone sees the version, the algorithm and where it came
 * from; with `Authorization: Bearer <ADMIN_TOKEN>` also the training summary, the offline estimates,
 * the KV details, why a newer policy was refused, the running experiment (or why one was refused),
 * and the log-loss counters.
 */
export function policyHandler(deps: EdgeDeps) {
  return async (c: Context<AppEnv>) => {
    const config = readConfig(c.env);
    const authorization = c.req.header("authorization");
    const admin = await bearerMatches(authorization, c.env.ADMIN_TOKEN);
    if (authorization !== undefined && !admin) {
      throw new ApiError(401, "invalid_admin_token", "Authorization must be Bearer <ADMIN_TOKEN>");
    }
    const served = await deps.policies.current(c.env.POLICY, Date.now(), config.policyRefreshMs);
    const experiment = await deps.experiments.current(
      c.env.POLICY,
      Date.now(),
      config.policyRefreshMs,
      served.catalogue,
    );
    const meta = served.policy?.meta ?? null;
    c.header("Cache-Control", "no-store");
    const algorithm = served.policy?.model.algorithm ?? "control";
    if (!admin) {
      return c.json({
        version: served.engine.version,
        algorithm,
        source: served.source,
        createdAt: meta?.createdAt ?? null,
      });
    }
    return c.json({
      version: served.engine.version,
      algorithm,
      control: served.engine.control,
      createdAt: meta?.createdAt ?? null,
      actions: meta?.actions ?? served.catalogue.actionIds,
      catalogue: {
        hash: served.catalogue.hash,
        source: served.catalogue.source,
        promotions: served.catalogue.actionIds,
        newPromotions: served.engine.newPromotions,
        throttles: served.throttles,
      },
      exploration: served.engine.exploration,
      training: meta?.training ?? null,
      offlineEstimate: meta?.training?.estimate ?? null,
      featureSpecHash: served.catalogue.spec.hash,
      sha256: served.pointer?.sha256 ?? null,
      source: served.source,
      loadedAt: iso(served.loadedAt),
      checkedAt: iso(deps.policies.checkedAt),
      lastError: deps.policies.problem,
      experiment: experiment?.experiment ?? null,
      experimentError: deps.experiments.problem,
      ...(await experimentHistory(c.env.POLICY)),
      logLoss: deps.logs.loss,
    });
  };
}

/**
 * GET /healthz: the isolate answers (200), and says whether it is degraded: a policy or experiment it
 * refused, a policy it could not decide with, or logged rows lost. Fallbacks that lost nothing (rows written directly
 * when the queue failed) are counted but do not degrade it.
 */
export function healthHandler(deps: EdgeDeps) {
  return (c: Context<AppEnv>) => {
    const problems = [
      ...(deps.policies.problem === null ? [] : [`policy: ${deps.policies.problem}`]),
      ...(deps.experiments.problem === null ? [] : [`experiment: ${deps.experiments.problem}`]),
      ...(deps.logs.loss.lost > 0 ? [`logging: ${deps.logs.loss.lost} rows lost`] : []),
    ];
    c.header("Cache-Control", "no-store");
    return c.json({
      ok: problems.length === 0,
      status: problems.length ? "degraded" : "ok",
      problems,
      logLoss: deps.logs.loss,
    });
  };
}
