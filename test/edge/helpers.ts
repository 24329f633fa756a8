/** Builds Workers under test with their own isolate state, and drives them as the runtime would. Not a test file. */
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  waitOnExecutionContext,
  type QueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { DEFAULT_CATALOGUE_DOCUMENT } from "../../shared/catalogue-document.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import { crc32, sha256Hex } from "../../shared/hash.ts";
import { encodePolicy, type Exploration, type Policy } from "../../shared/policy/index.ts";
import type { DecisionRow, LogMessage } from "../../shared/schema.ts";
import { decodeVisitorCookie, VISITOR_COOKIE, type Visitor } from "../../edge/visitor-cookie.ts";
import { signingKey } from "../../edge/crypto.ts";
import type { EdgeDeps } from "../../edge/deps.ts";
import { LogShipper } from "../../edge/logging/log-shipper.ts";
import { POLICY_POINTER_KEY, policyVersionKey, type PolicyPointer } from "../../shared/policy-store.ts";
import { ExperimentCache } from "../../edge/experiment/experiment-cache.ts";
import { PolicyCache } from "../../edge/policy/policy-cache.ts";
import { createWorker } from "../../edge/worker.ts";

export const ACTION_IDS: readonly string[] = DEFAULT_CATALOGUE.map((p) => p.id);
export const QUEUE_NAME = "edge-promo-log";

/** A LOG_QUEUE that keeps what it is sent, so that a test can hand it to the consumer itself. */
export function recordingQueue(sent: LogMessage[]): Queue<LogMessage> {
  const metrics = { backlogCount: 0, backlogBytes: 0 };
  return {
    async metrics() {
      return metrics;
    },
    async send(message) {
      sent.push(structuredClone(message));
      return { metadata: { metrics } };
    },
    async sendBatch(messages) {
      for (const m of messages) sent.push(structuredClone(m.body));
      return { metadata: { metrics } };
    },
  };
}

export function failingQueue(): Queue<LogMessage> {
  const refuse = () => Promise.reject(new Error("queue unavailable"));
  return { metrics: refuse, send: refuse, sendBatch: refuse };
}

/** A D1 binding whose batches fail, as when D1 is unreachable. */
export function failingDatabase(): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") return () => Promise.reject(new Error("D1 unavailable"));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export interface Harness {
  worker: ReturnType<typeof createWorker>;
  deps: EdgeDeps;
  env: Env;
  /** Messages the Worker sent to LOG_QUEUE, not yet consumed. */
  sent: LogMessage[];
}

/** A Worker with a fresh isolate state, real KV and D1, and a recording queue. The pointer is re-read on every request unless `env` says otherwise. */
export function harness(overrides: Partial<Env> = {}, deps?: EdgeDeps): Harness {
  const sent: LogMessage[] = [];
  const workerDeps = deps ?? {
    policies: new PolicyCache(DEFAULT_CATALOGUE_DOCUMENT, DEFAULT_COMPILED_SPEC),
    experiments: new ExperimentCache(),
    logs: new LogShipper(),
  };
  return {
    worker: createWorker(workerDeps),
    deps: workerDeps,
    env: { ...env, LOG_QUEUE: recordingQueue(sent), POLICY_REFRESH_SECONDS: "0", ...overrides },
    sent,
  };
}

/** Sends a request and waits for its waitUntil work (the log send) to finish. */
export async function call(h: Harness, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await h.worker.fetch(request, h.env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface RequestOptions {
  cookie?: string;
  headers?: Record<string, string>;
  cf?: Partial<IncomingRequestCfProperties>;
}

export function postJson(path: string, body: unknown, options: RequestOptions = {}): Request {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  return new Request(`https://promo.example${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(options.cf ? { cf: options.cf } : {}),
  });
}

export interface DecideAnswer {
  decisionId: string;
  promotion: { id: string; kind: string; headline: string; code?: string; badge?: string };
  propensity: number;
  policyVersion: string;
  explored: boolean;
  offer?: { token: string; expiresAt: string };
}

export interface Decided {
  answer: DecideAnswer;
  /** `promo_visitor=<value>`, ready for the next request's Cookie header. */
  cookie: string;
  row: DecisionRow;
}

/** POST /v1/decide that must succeed; returns the answer, the refreshed cookie and the logged row. */
export async function decide(h: Harness, body: unknown, options: RequestOptions = {}): Promise<Decided> {
  const response = await call(h, postJson("/v1/decide", body, options));
  if (response.status !== 200) throw new Error(`decide answered ${response.status}: ${await response.text()}`);
  const answer = await response.json<DecideAnswer>();
  const message = h.sent.findLast((m) => m.type === "decision" && m.row.id === answer.decisionId);
  if (message?.type !== "decision") throw new Error(`no decision row was sent for ${answer.decisionId}`);
  return { answer, cookie: visitorCookieOf(response), row: message.row };
}

export function visitorCookieOf(response: Response): string {
  const header = response.headers.get("set-cookie") ?? "";
  const match = new RegExp(`(?:^|, )(${VISITOR_COOKIE}=[^;]*)`).exec(header);
  if (!match) throw new Error(`no ${VISITOR_COOKIE} cookie in "${header}"`);
  return match[1]!;
}

export async function visitorOf(cookie: string): Promise<Visitor | null> {
  return decodeVisitorCookie(await signingKey(env.DECISION_SIGNING_KEY), cookie.slice(VISITOR_COOKIE.length + 1));
}

/** Hands every message the Worker sent to its queue consumer, as one batch, and reports acks and retries. */
export async function drain(h: Harness): Promise<QueueResult> {
  const messages = h.sent.splice(0);
  const batch = createMessageBatch<LogMessage>(
    QUEUE_NAME,
    messages.map((body, i) => ({ id: `msg-${i}`, timestamp: Date.now(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await h.worker.queue(batch, h.env);
  return getQueueResult(batch, ctx);
}

/** A Q-table over the default spec in which `favoured` beats every other action in every state. */
export function qtablePolicy(
  version: string,
  favoured: string,
  exploration: Exploration = { type: "epsilon", epsilon: 0, floor: 0 },
): Policy {
  const stateCount = DEFAULT_COMPILED_SPEC.stateCount;
  const q = new Float32Array(stateCount * ACTION_IDS.length);
  const column = ACTION_IDS.indexOf(favoured);
  if (column === -1) throw new Error(`${favoured} is not in the catalogue`);
  for (let s = 0; s < stateCount; s++) q[s * ACTION_IDS.length + column] = 1;
  return {
    meta: {
      version,
      featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
      actions: ACTION_IDS,
      exploration,
      createdAt: "2026-11-01T00:00:00.000Z",
      training: null,
    },
    model: { algorithm: "qtable", stateCount, q },
  };
}

/** The encoded {@link qtablePolicy} with its body corrupted under the old checksum. */
export function corruptedPolicyBytes(version: string, favoured: string): Uint8Array {
  const bytes = encodePolicy(qtablePolicy(version, favoured));
  bytes[bytes.length - 20]! ^= 0xff;
  return bytes;
}

/**
 * The encoded {@link qtablePolicy} with its one 1.0 (the favourite action of the first state) made
 * `value` (NaN, ±Infinity), under a checksum recomputed to match: only the decoder can catch it.
 */
export function nonFinitePolicyBytes(version: string, favoured: string, value: number): Uint8Array {
  const bytes = encodePolicy(qtablePolicy(version, favoured));
  const floats = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = -1;
  for (let i = 0; i + 4 <= bytes.length - 4 && at === -1; i += 4) if (floats.getFloat32(i, true) === 1) at = i;
  if (at <= 0) throw new Error("no 1.0 found in the encoded table");
  floats.setFloat32(at, value, true);
  floats.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Writes the version's bytes, then the pointer: the order the trainer publishes in. */
export async function publishBytes(
  kv: KVNamespace,
  version: string,
  bytes: Uint8Array,
  pointer?: Partial<PolicyPointer>,
): Promise<PolicyPointer> {
  await kv.put(policyVersionKey(version), bytes);
  const written: PolicyPointer = { version, sha256: await sha256Hex(bytes), ...pointer };
  await kv.put(POLICY_POINTER_KEY, JSON.stringify(written));
  return written;
}

export async function publish(kv: KVNamespace, policy: Policy): Promise<PolicyPointer> {
  return publishBytes(kv, policy.meta.version, encodePolicy(policy));
}

export async function unpublish(kv: KVNamespace): Promise<void> {
  await kv.delete(POLICY_POINTER_KEY);
}

/** A context body for /v1/decide. */
export function contextBody(overrides: Record<string, unknown> = {}, candidates?: string[]) {
  return {
    context: { page: "cart", cartValue: 100, country: "US", ...overrides },
    ...(candidates ? { candidates } : {}),
  };
}
