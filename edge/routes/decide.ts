import type { Context } from "hono";
import { assignArm } from "../../shared/experiment.ts";
import { toDecisionRow } from "../../shared/log-row.ts";
import { exposureCounts, recordExposure, recordPageView, visitorState } from "../../shared/visitor.ts";
import { readConfig } from "../config.ts";
import { buildContext, requestMetadata } from "../context/build-context.ts";
import { readProfile } from "../context/profile.ts";
import { loggableProfile } from "../../shared/profile.ts";
import { servableCandidates } from "../../shared/budget.ts";
import { signingKey, toHex } from "../crypto.ts";
import { mintDecisionId, visitorBinding } from "../decision-id.ts";
import { signOffer } from "../../shared/offer-token.ts";
import type { AppEnv, EdgeDeps } from "../deps.ts";
import { readJsonBody } from "../http/json-body.ts";
import { requestTime } from "../request-time.ts";
import { decideRequestSchema, type DecideResponse } from "../../shared/api.ts";
import { checkCandidates, parseRequest } from "../requests.ts";
import { newVisitor, readVisitorCookie, writeVisitorCookie } from "../visitor-cookie.ts";

/** POST /v1/decide: which promotion this page view shows, with the probability it had. */
export function decideHandler(deps: EdgeDeps) {
  return async (c: Context<AppEnv>) => {
    const config = readConfig(c.env);
    const now = requestTime(c.req.raw, config);
    const request = parseRequest(decideRequestSchema, await readJsonBody(c.req.raw, config.maxBodyBytes));
    const policy = await deps.policies.current(c.env.POLICY, Date.now(), config.policyRefreshMs);
    const { catalogue } = policy;
    checkCandidates(request.candidates, catalogue.actionIds);

    const key = await signingKey(c.env.DECISION_SIGNING_KEY);
    const known = (await readVisitorCookie(c, key)) ?? (await newVisitor(key, now));
    const visitor = recordPageView(known.memory, now);
    const profileFields = catalogue.spec.spec.profile ?? [];
    const profile = readProfile(profileFields, request.context.profile, c.req.raw);
    const context = buildContext(request.context, requestMetadata(c.req.raw), visitorState(visitor, now), now, profile);
    const [experiment, decisionId] = await Promise.all([
      deps.experiments.current(c.env.POLICY, Date.now(), config.policyRefreshMs, catalogue),
      mintDecisionId(key, now, known.hash),
    ]);
    const visitorHash = toHex(known.hash);
    // In an experiment, the visitor's arm decides; otherwise the current policy.
    const arm = experiment ? assignArm(experiment.experiment, visitorHash) : null;
    const engine = experiment && arm ? experiment.engines.get(arm.name)! : policy.engine;

    // No await between deciding and building the row: the engine's buffers are shared by the isolate.
    // Campaign windows and budget throttles narrow what may be shown, as the page's own candidates do.
    const candidates = servableCandidates(catalogue.document.promotions, policy.throttles, now, request.candidates);
    const decision = engine.decide(context, exposureCounts(visitor, now), decisionId, candidates);
    if (decision.fault !== null) deps.policies.recordFault(decision.fault);
    const row = toDecisionRow({
      id: decisionId,
      ts: now,
      visitorHash,
      policyVersion: decision.policyVersion,
      featureSpecHash: catalogue.spec.hash,
      catalogueHash: catalogue.hash,
      // Sensitive profile fields go to the log bucketed, never as sent.
      context: profile ? { ...context, profile: loggableProfile(profileFields, profile) } : context,
      features: decision.features,
      stateKey: decision.stateKey,
      eligible: catalogue.actionIds.filter((_, i) => decision.eligible[i] === 1),
      action: decision.promotion.id,
      propensity: decision.propensity,
      explored: decision.explored,
      experiment: experiment && arm ? { id: experiment.experiment.id, arm: arm.name } : null,
      // The shadow is asked under the served decision's mask: the same eligible promotions.
      shadow: experiment?.shadow
        ? {
            version: experiment.shadow.version,
            probabilities: experiment.shadow.probabilities(context, decision.eligible),
          }
        : null,
    });
    deps.logs.ship(c.executionCtx, c.env, { type: "decision", row });

    await writeVisitorCookie(c, key, { memory: recordExposure(visitor, decision.promotion.id, now), hash: known.hash });
    const { id, kind, display } = decision.promotion;
    const expiresAt = now + config.offerTtlMs;
    const offer =
      kind === "none"
        ? undefined
        : {
            token: await signOffer(key, {
              decisionId,
              promotionId: id,
              visitor: visitorBinding(known.hash),
              expiresAt,
            }),
            expiresAt: new Date(expiresAt).toISOString(),
          };
    c.header("Cache-Control", "no-store");
    const answer: DecideResponse = {
      decisionId,
      promotion: { id, kind, ...display },
      propensity: decision.propensity,
      policyVersion: decision.policyVersion,
      explored: decision.explored,
      ...(offer ? { offer } : {}),
    };
    return c.json(answer);
  };
}
