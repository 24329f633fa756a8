/**
 * `npm run dev [-- <wrangler dev args>]`: the Worker on this machine with local KV, D1 and Queue.
 * Creates .dev.vars when missing, applies the D1 migrations, then runs `wrangler dev`, passing
 * extra arguments through (`npm run dev -- --port 8788`).
 */
import { applyLocalMigrations, ensureDevVars, exitOf, spawnWrangler } from "./local-env.ts";

if (ensureDevVars() === "created")
  console.log("created .dev.vars from .dev.vars.example (a local-only DECISION_SIGNING_KEY)");
await applyLocalMigrations();

const wrangler = spawnWrangler(["dev", ...process.argv.slice(2)]);
// wrangler shares the terminal, so Ctrl-C reaches it directly; a signal sent to this process alone
// (a supervisor's SIGTERM, say) is passed on, so that workerd is not left running.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => wrangler.kill(signal));
}
const exit = await exitOf(wrangler);
process.exitCode = typeof exit === "number" ? exit : 1;
