/**
 * The local platform the HTTP measurements run on: the edge Worker bundled exactly as `wrangler deploy`
 * would bundle it (wrangler --dry-run), served by Miniflare with the bindings of wrangler.toml
 * (KV POLICY, D1 DB with the migrations applied, Queue LOG_QUEUE producer and consumer, vars) plus a
 * DECISION_SIGNING_KEY, and, in the same instance, the bare Hono worker on /bare/*.
 */
import type { D1Database, KVNamespace } from "@cloudflare/workers-types";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { applyMigrations } from "../shared/d1-migrations.ts";
import { readMigrations } from "../scripts/migrations.ts";
import { PolicyRegistry } from "../shared/policy-registry.ts";
import type { PolicyKv } from "../shared/policy-kv.ts";

const run = promisify(execFile);

type V4WorkerOptions = Extract<V4MiniflareOptions, { workers: unknown[] }>["workers"][number];

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER_TOML = path.join(ROOT, "wrangler.toml");
/** Run with this process's Node: the shell's `node` may be older than wrangler accepts. */
const WRANGLER_JS = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
export const BENCH_SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789abcdef";
/** Opens the admin view of /v1/policy, where the edge's errors and log counters are. */
const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";

let tempRoot: string | null = null;
function tempDir(): string {
  if (tempRoot === null) {
    tempRoot = mkdtempSync(path.join(os.tmpdir(), "edge-promo-bench-"));
    const dir = tempRoot;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return tempRoot;
}

async function wranglerBundle(configPath: string, outdir: string): Promise<string> {
  try {
    await run(process.execPath, [WRANGLER_JS, "deploy", "--dry-run", "--config", configPath, "--outdir", outdir], {
      cwd: ROOT,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ""}\n${e.stderr ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new Error(
      `wrangler deploy --dry-run --config ${path.relative(ROOT, configPath)} failed:\n${output || e.message}`,
    );
  }
  const entry = readdirSync(outdir).find((f) => f.endsWith(".js") || f.endsWith(".mjs"));
  if (!entry) throw new Error(`wrangler wrote no bundle into ${outdir}`);
  return path.join(outdir, entry);
}

const bundles = new Map<string, Promise<string>>();

/**
 * Bundles a Worker once per process into a temp dir removed at exit: `edge` from wrangler.toml,
 * anything else from a one-line wrangler config around `entry` (a path relative to the repository).
 */
export function bundleWorker(name: string, entry: string | null, log: (message: string) => void): Promise<string> {
  let bundle = bundles.get(name);
  if (!bundle) {
    bundle = (async () => {
      const dir = path.join(tempDir(), name);
      mkdirSync(dir, { recursive: true });
      let config = WRANGLER_TOML;
      if (entry !== null) {
        config = path.join(dir, "wrangler.json");
        writeFileSync(
          config,
          JSON.stringify({
            name,
            main: path.join(ROOT, entry),
            compatibility_date: edgeCompatibility().compatibilityDate,
          }),
        );
      }
      log(`bundling ${entry ?? "edge/ (wrangler.toml)"} with wrangler deploy --dry-run`);
      return wranglerBundle(config, path.join(dir, "out"));
    })();
    bundles.set(name, bundle);
  }
  return bundle;
}

/** The part of wrangler.toml, as wrangler turns it into Miniflare (v4-shape) options, that the bench uses. */
type WranglerWorkerOptions = Pick<
  V4WorkerOptions,
  | "compatibilityDate"
  | "compatibilityFlags"
  | "bindings"
  | "kvNamespaces"
  | "d1Databases"
  | "queueProducers"
  | "queueConsumers"
>;
let wranglerOptions: WranglerWorkerOptions | null = null;
function fromWranglerToml(): WranglerWorkerOptions {
  if (wranglerOptions === null) {
    // wrangler logs ("Using secrets defined in .dev.vars") to stdout, which must stay the bench's own.
    const level = process.env.WRANGLER_LOG;
    process.env.WRANGLER_LOG = "error";
    try {
      // Typed loosely by wrangler ("unstable"); it is the v4 worker-options shape.
      wranglerOptions = unstable_getMiniflareWorkerOptions(WRANGLER_TOML).workerOptions as WranglerWorkerOptions;
    } finally {
      if (level === undefined) delete process.env.WRANGLER_LOG;
      else process.env.WRANGLER_LOG = level;
    }
  }
  return wranglerOptions;
}

export function edgeCompatibility(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const o = fromWranglerToml();
  return { compatibilityDate: o.compatibilityDate ?? "2026-11-01", compatibilityFlags: o.compatibilityFlags ?? [] };
}

export interface Platform {
  mf: Miniflare;
  /** Base URL of the workerd HTTP server; /bare/* goes to the bare worker, everything else to the edge. */
  url: URL;
  dispose(): Promise<void>;
}

/** Host header that routes a request to the diagnostic edge-without-logging worker. */
export const NOLOG_HOST = "nolog.bench";
/** Host header of the diagnostic edge whose LOG_QUEUE has no consumer (it sends; nothing writes D1). */
export const UNCONSUMED_HOST = "unconsumed.bench";
export const UNCONSUMED_QUEUE = "bench-unconsumed";

/**
 * A fresh, ephemeral Miniflare with the edge (the entry: everything not routed elsewhere) and, with
 * `comparison`, in the same workerd: the bare Hono worker on /bare/*, and two diagnostic edges sharing
 * the edge's KV namespace: one that drops its logs (bench/edge-nolog-worker.ts, host nolog.bench) and
 * the real edge bundle bound to a queue nobody consumes (host unconsumed.bench), which sends its logs
 * but leaves no consumer or D1 work on the machine.
 */
export async function startPlatform(options: {
  comparison: boolean;
  log: (message: string) => void;
  /** Opens workerd's DevTools inspector (for profiling the workers by hand). */
  inspectorPort?: number;
}): Promise<Platform> {
  const [edge, bare, nolog] = await Promise.all([
    bundleWorker("edge", null, options.log),
    options.comparison ? bundleWorker("bench-bare", "bench/bare-worker.ts", options.log) : Promise.resolve(""),
    options.comparison
      ? bundleWorker("bench-edge-nolog", "bench/edge-nolog-worker.ts", options.log)
      : Promise.resolve(""),
  ]);
  const w = fromWranglerToml();
  const edgeWorker = {
    ...bundledWorker("edge", edge),
    ...edgeBindings(),
    queueProducers: w.queueProducers,
    queueConsumers: w.queueConsumers,
  };
  const bareWorker = {
    ...bundledWorker("bench-bare", bare),
    routes: ["*/bare/*"],
  };
  const nologWorker = {
    ...bundledWorker("bench-edge-nolog", nolog),
    bindings: edgeWorker.bindings,
    kvNamespaces: w.kvNamespaces,
    routes: [`${NOLOG_HOST}/*`],
  };
  const unconsumedWorker = {
    ...bundledWorker("bench-edge-unconsumed", edge),
    ...edgeBindings(),
    queueProducers: { LOG_QUEUE: { queueName: UNCONSUMED_QUEUE } },
    routes: [`${UNCONSUMED_HOST}/*`],
  };
  const mf = newMiniflare(
    options.comparison ? [edgeWorker, bareWorker, nologWorker, unconsumedWorker] : [edgeWorker],
    options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort },
  );
  const url = await mf.ready;
  return { mf, url, dispose: () => mf.dispose() };
}

/** The edge's bindings from wrangler.toml (vars, KV, D1) and the bench's signing key; queues are the caller's. */
export function edgeBindings() {
  const w = fromWranglerToml();
  return {
    bindings: { ...(w.bindings ?? {}), DECISION_SIGNING_KEY: BENCH_SIGNING_KEY, ADMIN_TOKEN: BENCH_ADMIN_TOKEN },
    kvNamespaces: w.kvNamespaces,
    d1Databases: w.d1Databases,
  };
}

/** A modules Worker from a bundle; module names are relative to the bundle's own (temp) directory. */
export function bundledWorker(name: string, scriptPath: string) {
  return { name, modules: true, scriptPath, modulesRoot: path.dirname(scriptPath), ...edgeCompatibility() };
}

/**
 * A Miniflare instance on a free port, quiet (warnings only, no request log), with no dev registry
 * and the placeholder `request.cf` (no network). The Workers' own console output goes to stderr, so
 * that stdout stays the bench's table or JSON lines. Miniflare 5 takes a new option shape; the v4 shape
 * (the documented one, and what wrangler's unstable_getMiniflareWorkerOptions produces) converts.
 */
export function newMiniflare(workers: V4WorkerOptions[], extra: { inspectorPort?: number } = {}): Miniflare {
  return new Miniflare(
    convertV4MiniflareOptions({
      ...extra,
      log: new Log(LogLevel.WARN),
      handleStructuredLogs: ({ level, message }) => process.stderr.write(`[workerd ${level}] ${message}\n`),
      logRequests: false,
      enableDevRegistry: false,
      cf: false,
      port: 0,
      workers,
    }),
  );
}

/** Publishes policy bytes the way `promo publish` does: the version value first, then the pointer. */
export async function publishPolicy(kv: KVNamespace, bytes: Uint8Array): Promise<{ version: string; sha256: string }> {
  const listing = await new PolicyRegistry(kv as unknown as PolicyKv).publish(bytes);
  return { version: listing.version, sha256: listing.sha256 };
}

export interface PreparedEdge {
  db: D1Database;
  policyVersion: string;
  policyBytes: number;
}

/**
 * Makes the edge of `platform` ready to serve for real: D1 migrated, a DQN 64×64 published, and the
 * edge confirmed (GET /v1/policy) to serve it from KV rather than the uniform fallback, so that every
 * decision runs the network.
 */
export async function prepareEdge(
  platform: Platform,
  policyBytes: Uint8Array,
  alsoHosts: readonly string[] = [],
): Promise<PreparedEdge> {
  const db = (await platform.mf.getD1Database("DB")) as unknown as D1Database;
  await applyMigrations(db, readMigrations());
  const kv = (await platform.mf.getKVNamespace("POLICY")) as unknown as KVNamespace;
  const { version } = await publishPolicy(kv, policyBytes);
  for (const host of [undefined, ...alsoHosts]) {
    const served = await edgeStatus(platform, host);
    if (served.source !== "kv" || served.version !== version) {
      throw new Error(
        `the edge${host ? ` at ${host}` : ""} serves ${served.version} (${served.source}) instead of the published ${version}: ${served.lastError ?? "no error given"}`,
      );
    }
  }
  return { db, policyVersion: version, policyBytes: policyBytes.length };
}

export interface EdgeStatus {
  version: string;
  source: string;
  lastError: string | null;
  logLoss?: { queueSendFailures: number; writtenDirect: number; lost: number };
}

export async function edgeStatus(platform: Platform, host?: string): Promise<EdgeStatus> {
  const response = await platform.mf.dispatchFetch(new URL("/v1/policy", host ? `http://${host}` : platform.url), {
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, ...(host ? { host } : {}) },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /v1/policy answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as EdgeStatus;
}

export async function countDecisions(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT COUNT(*) AS n FROM decisions").first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Waits until the queue has delivered: the decisions count reaches `expected`, or stops moving for
 * `stableMs`, or `maxMs` passes. Returns the last count and how long it took.
 */
export async function waitForDrain(
  db: D1Database,
  expected: number,
  options: { stableMs: number; maxMs: number; pollMs?: number },
): Promise<{ stored: number; waitedMs: number; reason: "complete" | "stable" | "timeout" }> {
  const start = performance.now();
  let stored = await countDecisions(db);
  let lastChange = performance.now();
  for (;;) {
    if (stored >= expected) return { stored, waitedMs: performance.now() - start, reason: "complete" };
    const now = performance.now();
    if (now - lastChange >= options.stableMs) return { stored, waitedMs: now - start, reason: "stable" };
    if (now - start >= options.maxMs) return { stored, waitedMs: now - start, reason: "timeout" };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    const next = await countDecisions(db);
    if (next !== stored) lastChange = performance.now();
    stored = next;
  }
}
