import { expect, test } from "vitest";
import { env } from "cloudflare:workers";
test("runs in workerd", async () => { await env.POLICY.put("a","b"); expect(await env.POLICY.get("a")).toBe("b"); expect(typeof navigator.userAgent).toBe("string"); });
