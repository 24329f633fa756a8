import { Hono, type Context } from "hono";
import { ConfigError } from "./config.ts";
import { MissingSecretError } from "./crypto.ts";
import type { AppEnv, EdgeDeps } from "./deps.ts";
import { ApiError, type ErrorBody } from "./http/api-error.ts";
import { adminHandler } from "./routes/admin.ts";
import { decideHandler } from "./routes/decide.ts";
import { offerVerifyHandler } from "./routes/offer.ts";
import { outcomeHandler } from "./routes/outcome.ts";
import { healthHandler, policyHandler } from "./routes/status.ts";

function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  return c.json<ErrorBody>(error.body, error.status);
}

/** Answers 405, naming the methods the path does take, for any other method. */
function methodNotAllowed(allowed: string) {
  return (c: Context<AppEnv>) => {
    c.header("Allow", allowed);
    return errorResponse(
      c,
      new ApiError(405, "method_not_allowed", `${c.req.method} ${c.req.path} is not supported; use ${allowed}`),
    );
  };
}

/** The HTTP side of the Worker: routes, and errors that are always JSON and never leak a stack. */
export function createApp(deps: EdgeDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/v1/decide", decideHandler(deps));
  app.all("/v1/decide", methodNotAllowed("POST"));
  app.post("/v1/outcome", outcomeHandler(deps));
  app.all("/v1/outcome", methodNotAllowed("POST"));
  app.post("/v1/offer/verify", offerVerifyHandler());
  app.all("/v1/offer/verify", methodNotAllowed("POST"));
  app.get("/v1/policy", policyHandler(deps));
  app.all("/v1/policy", methodNotAllowed("GET, HEAD"));
  app.get("/admin", adminHandler(deps));
  app.all("/admin", methodNotAllowed("GET, HEAD"));
  app.get("/healthz", healthHandler(deps));
  app.all("/healthz", methodNotAllowed("GET, HEAD"));

  app.notFound((c) => errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    if (error instanceof ConfigError || error instanceof MissingSecretError) {
      console.error(`misconfigured: ${error.message}`);
      return errorResponse(
        c,
        new ApiError(500, "misconfigured", "the service is misconfigured; the operator has been told in the logs"),
      );
    }
    console.error(`unhandled error on ${c.req.method} ${c.req.path}:`, error);
    return errorResponse(c, new ApiError(500, "internal_error", "internal error"));
  });
  return app;
}
