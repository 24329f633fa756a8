import type { Context } from "hono";
import { z } from "zod";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { OUTCOME_KINDS } from "../../shared/schema.ts";
import { dailySeries, type DashboardLogRow } from "../admin/daily-series.ts";
import { renderDashboard } from "../admin/render.ts";
import { readConfig } from "../config.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";
import { experimentReport } from "../experiment/monitor.ts";
import { ApiError } from "../http/api-error.ts";
import { bearerMatches } from "../http/bearer.ts";

const WINDOW_MS = 30 * 86_400_000;
/** The page reads at most this many decision and outcome rows: enough for its plots, bounded for D1. */
const MAX_ROWS = 50_000;

const dashboardRowSchema = z.object({
  decisionId: z.string(),
  ts: z.number(),
  visitorHash: z.string(),
  series: z.string(),
  action: z.string(),
  explored: z.number(),
  kind: z.enum(OUTCOME_KINDS).nullable(),
  value: z.number().nullable(),
}) satisfies z.ZodType<DashboardLogRow>;

/** The 30 days up to the latest decision (not up to now: a quiet shop, or simulated history, still shows). */
async function windowRows(db: D1Database): Promise<DashboardLogRow[]> {
  const latest = await db.prepare("SELECT MAX(ts) AS ts FROM decisions").first<{ ts: number | null }>();
  if (latest?.ts == null) return [];
  const { results } = await db
    .prepare(
      `SELECT d.id AS decisionId, d.ts AS ts, d.visitor_hash AS visitorHash,
              COALESCE(d.arm, d.policy_version) AS series, d.action AS action, d.explored AS explored,
              o.kind AS kind, o.value AS value
         FROM decisions d LEFT JOIN outcomes o ON o.decision_id = d.id
        WHERE d.ts > ? ORDER BY d.ts DESC LIMIT ?`,
    )
    .bind(latest.ts - WINDOW_MS, MAX_ROWS)
    .all();
  return z.array(dashboardRowSchema).parse(results);
}

/**
 * GET /admin: the operator's page (HTML, no script, no CDN): the policy served and its history, the
 * running experiment with each arm's figures and intervals, the monitor's and the gate's decisions,
 * daily plots and log health. `Authorization: Bearer <ADMIN_TOKEN>`, else a 401.
 */
export function adminHandler(deps: EdgeDeps) {
  return async (c: Context<AppEnv>) => {
    if (!(await bearerMatches(c.req.header("authorization"), c.env.ADMIN_TOKEN))) {
      c.header("WWW-Authenticate", 'Bearer realm="edge-promo admin"');
      throw new ApiError(401, "admin_token_required", "send Authorization: Bearer <ADMIN_TOKEN>");
    }
    const config = readConfig(c.env);
    const now = Date.now();
    const served = await deps.policies.current(c.env.POLICY, now, config.policyRefreshMs);
    const running = await deps.experiments.current(c.env.POLICY, now, config.policyRefreshMs, served.catalogue);
    const promotions = served.catalogue.document.promotions;
    const experiments = new ExperimentRegistry(c.env.POLICY);
    const [history, look, last, rows, report] = await Promise.all([
      new PolicyRegistry(c.env.POLICY).history(),
      experiments.look(),
      experiments.last(),
      windowRows(c.env.DB),
      running ? experimentReport(c.env.DB, promotions, running.experiment) : Promise.resolve(null),
    ]);
    c.header("Cache-Control", "no-store");
    return c.html(
      renderDashboard({
        generatedAt: new Date(now),
        served: {
          version: served.engine.version,
          algorithm: served.policy?.model.algorithm ?? "control",
          source: served.source,
          createdAt: served.policy?.meta.createdAt ?? null,
          training: served.policy?.meta.training ?? null,
          problem: deps.policies.problem,
        },
        history,
        experiment: running && report ? { experiment: running.experiment, report } : null,
        experimentProblem: deps.experiments.problem,
        monitorLook: look,
        lastExperiment: last,
        days: dailySeries(rows, promotions, DEFAULT_REWARD_SPEC),
        logLoss: deps.logs.loss,
      }),
    );
  };
}
