/**
 * A real local Worker for scripts and end-to-end tests: `wrangler dev` on its own port and state
 * directory, with the D1 migrations applied, started and stopped from code.
 */
import { createServer } from "node:net";
import { applyLocalMigrations, ephemeralSecrets, exitOf, spawnWrangler } from "./local-env.ts";

export interface LocalWorker {
  url: string;
  persistTo: string;
  stop(): Promise<void>;
}

export interface LocalWorkerOptions {
  /** State directory (wrangler's --persist-to). */
  persistTo: string;
  port?: number;
  /** Extra `--var NAME:VALUE` settings, e.g. POLICY_REFRESH_SECONDS: "0". */
  vars?: Record<string, string>;
  /** Where wrangler's own output goes; silent by default. */
  output?: "inherit" | "ignore";
  startTimeoutMs?: number;
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const stdio = options.output ?? "ignore";
  await applyLocalMigrations(options.persistTo);
  const port = options.port ?? (await freePort());
  const vars = Object.entries({ ...ephemeralSecrets(), ...options.vars }).flatMap(([name, value]) => [
    "--var",
    `${name}:${value}`,
  ]);
  const child = spawnWrangler(
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      options.persistTo,
      "--show-interactive-dev-session=false",
      ...vars,
    ],
    { stdio, detached: true },
  );
  const exited = exitOf(child);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // wrangler runs workerd as a child: signal the whole process group so nothing is left behind.
    process.kill(-child.pid!, "SIGTERM");
    await Promise.race([exited, sleep(5_000).then(() => process.kill(-child.pid!, "SIGKILL"))]);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited with code ${child.exitCode} before serving ${url}`);
    if (await answers(`${url}/healthz`)) return { url, persistTo: options.persistTo, stop };
    await sleep(250);
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url} within ${options.startTimeoutMs ?? 60_000} ms`);
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
