import type { Context } from "hono";
import { offerVerifyRequestSchema } from "../../shared/api.ts";
import { verifyOffer } from "../../shared/offer-token.ts";
import { readConfig } from "../config.ts";
import { signingKey } from "../crypto.ts";
import type { AppEnv } from "../deps.ts";
import { ApiError } from "../http/api-error.ts";
import { bearerMatches } from "../http/bearer.ts";
import { readJsonBody } from "../http/json-body.ts";
import { requestTime } from "../request-time.ts";
import { parseRequest } from "../requests.ts";

/**
 * POST /v1/offer/verify: the shop's server, at checkout, asks whether an offer token is one this edge
 * issued, unexpired, for that promotion. Authenticated like server outcomes (Bearer OUTCOME_API_KEY).
 * A well-formed question always gets a 200; `valid` and `reason` are the answer.
 */
export function offerVerifyHandler() {
  return async (c: Context<AppEnv>) => {
    if (!(await bearerMatches(c.req.header("authorization"), c.env.OUTCOME_API_KEY))) {
      throw new ApiError(401, "invalid_api_key", "Authorization must be Bearer <OUTCOME_API_KEY>");
    }
    const config = readConfig(c.env);
    const now = requestTime(c.req.raw, config);
    const request = parseRequest(offerVerifyRequestSchema, await readJsonBody(c.req.raw, config.maxBodyBytes));
    const check = await verifyOffer(await signingKey(c.env.DECISION_SIGNING_KEY), request.token, now);
    c.header("Cache-Control", "no-store");
    if (!check.valid) return c.json({ valid: false, reason: check.reason });
    const { decisionId, promotionId, expiresAt } = check.offer;
    if (request.promotionId !== undefined && request.promotionId !== promotionId) {
      return c.json({ valid: false, reason: "other_promotion", promotionId });
    }
    return c.json({ valid: true, decisionId, promotionId, expiresAt: new Date(expiresAt).toISOString() });
  };
}
