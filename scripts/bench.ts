/**
 * `npm run bench [-- --only <name,...>] [--quick] [--json]`: measures the figures of docs/figures.md and
 * prints them with their targets. Measurements live in bench/ (one module each, listed in
 * bench/registry.ts); nothing here is asserted as a timed test.
 */
import { MEASUREMENTS } from "../bench/registry.ts";
import { runBench } from "../bench/runner.ts";

process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
process.env.WRANGLER_SEND_METRICS ??= "false";

process.exitCode = await runBench(MEASUREMENTS, process.argv.slice(2));
