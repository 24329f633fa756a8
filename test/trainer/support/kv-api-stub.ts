import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export const KV_STUB_ACCOUNT = "account-1";
export const KV_STUB_NAMESPACE = "namespace-1";
export const KV_STUB_TOKEN = "good-token";

/**
 * A stand-in for the Cloudflare Workers KV REST API on 127.0.0.1 (values with metadata, deletes, and
 * the key listing), holding its keys in memory, so that the remote KV adapter is tested over HTTP.
 */
export interface KvApiStub {
  baseUrl: string;
  values: Map<string, { value: Uint8Array; metadata: unknown }>;
  close(): Promise<void>;
}

export async function startKvApiStub(): Promise<KvApiStub> {
  const values = new Map<string, { value: Uint8Array; metadata: unknown }>();
  const prefix = `/client/v4/accounts/${KV_STUB_ACCOUNT}/storage/kv/namespaces/${KV_STUB_NAMESPACE}`;
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const url = new URL(incoming.url ?? "/", "http://stub");
    const reply = (status: number, body: unknown) => {
      outgoing.writeHead(status, { "content-type": "application/json" });
      outgoing.end(JSON.stringify(body));
    };
    if (incoming.headers.authorization !== `Bearer ${KV_STUB_TOKEN}`) {
      return reply(403, { success: false, errors: [{ code: 10000, message: "Authentication error" }] });
    }
    if (incoming.method === "GET" && url.pathname === `${prefix}/keys`) {
      const wanted = url.searchParams.get("prefix") ?? "";
      const result = [...values]
        .filter(([k]) => k.startsWith(wanted))
        .map(([name, v]) => ({ name, metadata: v.metadata }));
      return reply(200, { success: true, result, result_info: { cursor: "" } });
    }
    if (!url.pathname.startsWith(`${prefix}/values/`))
      return reply(404, { success: false, errors: [{ code: 7000, message: "No route" }] });
    const key = decodeURIComponent(url.pathname.slice(`${prefix}/values/`.length));
    switch (incoming.method) {
      case "GET": {
        const stored = values.get(key);
        if (!stored) return reply(404, { success: false, errors: [{ code: 10009, message: "key not found" }] });
        outgoing.writeHead(200, { "content-type": "application/octet-stream" });
        return outgoing.end(Buffer.from(stored.value));
      }
      case "PUT": {
        const form = await new Request("http://stub", {
          method: "PUT",
          headers: { "content-type": incoming.headers["content-type"] ?? "" },
          body: Buffer.concat(chunks),
        }).formData();
        const value = form.get("value");
        const bytes =
          typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(await value!.arrayBuffer());
        values.set(key, { value: bytes, metadata: JSON.parse(String(form.get("metadata") ?? "{}")) });
        return reply(200, { success: true, result: null });
      }
      case "DELETE":
        values.delete(key);
        return reply(200, { success: true, result: null });
      default:
        return reply(405, { success: false, errors: [{ code: 10405, message: "method not allowed" }] });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    values,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
