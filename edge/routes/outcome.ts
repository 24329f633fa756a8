import type { Context } from "hono";
import type { OutcomeRow } from "../../shared/schema.ts";
import { recordPurchase } from "../../shared/visitor.ts";
import { readConfig } from "../config.ts";
import { signingKey } from "../crypto.ts";
import { checkDecisionId, type DecisionIdCheck } from "../decision-id.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";
import { ApiError } from "../http/api-error.ts";
import { readJsonBody } from "../http/json-body.ts";
import { requestTime } from "../request-time.ts";
import { outcomeRequestSchema } from "../../shared/api.ts";
import { parseRequest } from "../requests.ts";
import { readVisitorCookie, writeVisitorCookie } from "../visitor-cookie.ts";

function refusal(check: Exclude<DecisionIdCheck, { valid: true }>, maxAgeMs: number): ApiError {
  switch (check.reason) {
    case "malformed":
      return new ApiError(
        400,
        "invalid_decision_id",
        "decisionId is not a decision id this service issues",
        "decisionId",
      );
    case "forged":
      return new ApiError(403, "forged_decision_id", "decisionId does not carry a valid signature", "decisionId");
    case "expired":
      return new ApiError(
        410,
        "decision_expired",
        `decisionId is older than ${maxAgeMs / 1000} s and no longer accepts outcomes`,
        "decisionId",
      );
    case "from_future":
      return new ApiError(400, "decision_from_future", "decisionId was issued later than now", "decisionId");
  }
}

/**
 * POST /v1/outcome: what became of a decision. Accepted (202) once the id verifies; the row is
 * written later, at least once, and stored once per (decision, kind, event key).
 */
export function outcomeHandler(deps: EdgeDeps) {
  return async (c: Context<AppEnv>) => {
    const config = readConfig(c.env);
    const now = requestTime(c.req.raw, config);
    const request = parseRequest(outcomeRequestSchema, await readJsonBody(c.req.raw, config.maxBodyBytes));
    const key = await signingKey(c.env.DECISION_SIGNING_KEY);
    const check = await checkDecisionId(key, request.decisionId, now, config.decisionMaxAgeMs);
    if (!check.valid) throw refusal(check, config.decisionMaxAgeMs);

    const row: OutcomeRow = {
      decisionId: request.decisionId,
      ts: now,
      kind: request.kind,
      value: request.value ?? 0,
      eventKey: request.eventKey ?? "",
    };
    c.executionCtx.waitUntil(deps.logs.ship(c.env, { type: "outcome", row }));

    // The purchase count is a context feature of this visitor's next decisions.
    if (request.kind === "conversion") {
      const visitor = await readVisitorCookie(c, key);
      if (visitor !== null) await writeVisitorCookie(c, key, recordPurchase(visitor, now));
    }
    c.header("Cache-Control", "no-store");
    return c.json({ accepted: true, decisionId: request.decisionId, kind: request.kind }, 202);
  };
}
