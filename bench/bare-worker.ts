/**
 * The baseline of decide_vs_bare_ratio: a bare Hono app served by the same Miniflare instance as the
 * edge Worker (routed on /bare/*). Its route does what any JSON endpoint must (parse the request body,
 * answer JSON) and nothing else, so the ratio prices exactly what /v1/decide adds: validation,
 * features, inference, exploration, signing, the cookie and the queued log.
 */
import { Hono } from "hono";

const app = new Hono().basePath("/bare");

app.post("/v1/decide", async (c) => {
  const body = await c.req.json<unknown>();
  return c.json({ ok: true, received: typeof body });
});

app.get("/healthz", (c) => c.text("ok"));

export default app;
