/**
 * The local Cloudflare emulation the npm scripts share (dev, demo, bench): the secrets file, the
 * environment wrangler runs in, and the local D1 migrations. Node runs this file as it is
 * (type stripping), so it uses only erasable TypeScript.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations } from "../shared/d1-migrations.ts";
import { openLocalBindings } from "../trainer/runtime/local-bindings.ts";
import { readMigrations } from "./migrations.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WRANGLER_BIN = path.join(ROOT, "node_modules", ".bin", "wrangler");

const DEV_VARS = path.join(ROOT, ".dev.vars");
const DEV_VARS_EXAMPLE = path.join(ROOT, ".dev.vars.example");

/**
 * The secrets a Worker started from code needs when .dev.vars is absent (a fresh clone, CI): a
 * signing key made for this run, passed as a `--var`, so that nothing is written into the checkout.
 */
export function ephemeralSecrets(): Record<string, string> {
  return existsSync(DEV_VARS) ? {} : { DECISION_SIGNING_KEY: randomBytes(32).toString("base64url") };
}

/** Creates .dev.vars (the local DECISION_SIGNING_KEY) from the example when missing; never overwrites one. */
export function ensureDevVars(): "created" | "present" {
  if (existsSync(DEV_VARS)) return "present";
  copyFileSync(DEV_VARS_EXAMPLE, DEV_VARS);
  return "created";
}

/**
 * The environment for wrangler: no request to Cloudflare for the `cf` object or for telemetry, and
 * this Node (22, from node_modules) first on PATH, since wrangler's launcher runs whichever `node`
 * PATH names first and the system one may be older.
 */
export function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const binDirs = [path.dirname(process.execPath), path.join(ROOT, "node_modules", ".bin")];
  return {
    ...process.env,
    PATH: [...binDirs, process.env.PATH ?? ""].join(path.delimiter),
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    ...extra,
  };
}

/** Starts wrangler with `args` in the project root. */
export function spawnWrangler(args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(WRANGLER_BIN, args, { cwd: ROOT, env: wranglerEnv(), stdio: "inherit", ...options });
}

/** Resolves with the exit code, or the signal's name when the process was killed by one. */
export function exitOf(child: ChildProcess): Promise<number | NodeJS.Signals> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 1));
  });
}

/**
 * Applies migrations/ to the local D1 (idempotent: applied ones are skipped), under .wrangler/state
 * or the given `--persist-to` directory, through the same storage wrangler dev uses.
 */
export async function applyLocalMigrations(persistTo?: string): Promise<string[]> {
  const bindings = await openLocalBindings(persistTo === undefined ? {} : { persistTo });
  try {
    return await applyMigrations(bindings.DB, readMigrations());
  } finally {
    await bindings.dispose();
  }
}
