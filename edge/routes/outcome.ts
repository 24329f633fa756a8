import type { Context } from "hono";
import type { OutcomeRow } from "../../shared/schema.ts";
import { recordPurchase } from "../../shared/visitor.ts";
import { readConfig } from "../config.ts";
import { signingKey } from "../crypto.ts";
import { checkDecisionId, visitorBinding, type DecisionIdCheck } from "../decision-id.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";
import { ApiError } from "../http/api-error.ts";
import { bearerMatches } from "../http/bearer.ts";
import { readJsonBody } from "../http/json-body.ts";
import { requestTime } from "../request-time.ts";
import { outcomeRequestSchema } from "../../shared/api.ts";
import { parseRequest } from "../requests.ts";
import { readVisitorCookie, writeVisitorCookie, type Visitor } from "../visitor-cookie.ts";

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

type Reporter = { kind: "server" } | { kind: "visitor"; visitor: Visitor };

async function reporterOf(c: Context<AppEnv>, key: CryptoKey, binding: string): Promise<Reporter> {
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    if (!(await bearerMatches(authorization, c.env.OUTCOME_API_KEY))) {
      throw new ApiError(401, "invalid_api_key", "Authorization must be Bearer <OUTCOME_API_KEY>");
    }
    return { kind: "server" };
  }
  const visitor = await readVisitorCookie(c, key);
  if (visitor === null) {
    throw new ApiError(
      403,
      "visitor_required",
      "report from the browser that got the decision (with its visitor cookie), or from a server with Authorization: Bearer <OUTCOME_API_KEY>",
    );
  }
  if (visitorBinding(visitor.hash) !== binding) {
    throw new ApiError(403, "visitor_mismatch", "this decision was issued to another visitor", "decisionId");
  }
  return { kind: "visitor", visitor };
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
    if ((request.value ?? 0) > config.maxOutcomeValue) {
      throw new ApiError(
        400,
        "value_too_large",
        `value exceeds MAX_OUTCOME_VALUE (${config.maxOutcomeValue})`,
        "value",
      );
    }
    // A server (the shop's order webhook) proves itself with the API key; a browser, by carrying the
    // cookie of the visitor the decision was issued to. Anyone else holding an id cannot report.
    const reporter = await reporterOf(c, key, check.binding);

    const row: OutcomeRow = {
      decisionId: request.decisionId,
      ts: now,
      kind: request.kind,
      value: request.value ?? 0,
      eventKey: request.eventKey ?? "",
    };
    deps.logs.ship(c.executionCtx, c.env, { type: "outcome", row });

    // The purchase count is a context feature of this visitor's next decisions: only the visitor's
    // own accepted conversion moves it.
    if (request.kind === "conversion" && reporter.kind === "visitor") {
      const { memory, hash } = reporter.visitor;
      await writeVisitorCookie(c, key, { memory: recordPurchase(memory, now), hash });
    }
    c.header("Cache-Control", "no-store");
    return c.json({ accepted: true, decisionId: request.decisionId, kind: request.kind }, 202);
  };
}
