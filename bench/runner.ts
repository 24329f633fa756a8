/** Parses the bench's flags, runs the selected measurements in order and prints their figures. */
import os from "node:os";
import { parseArgs } from "node:util";
import { formatTable, jsonLine } from "./format.ts";
import type { BenchOptions, Measurement, Metric } from "./types.ts";

const USAGE = `usage: npm run bench -- [--only <name,...>] [--quick] [--json]

  --only <names>  run only these measurements (comma-separated)
  --quick         shorter durations and fewer iterations (smoke run; noisier figures)
  --json          one JSON object per line on stdout: {"metric","value","unit",...}
                  (progress always goes to stderr)`;

export async function runBench(measurements: readonly Measurement[], argv: readonly string[]): Promise<number> {
  let values: { only?: string; quick?: boolean; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        only: { type: "string" },
        quick: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const list = measurements.map((m) => `  ${m.name.padEnd(18)} ${m.description}`).join("\n");
  if (values.help) {
    process.stdout.write(`${USAGE}\n\nmeasurements:\n${list}\n`);
    return 0;
  }

  const wanted = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted?.filter((name) => !measurements.some((m) => m.name === name)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`unknown measurement(s): ${unknown.join(", ")}\n\nmeasurements:\n${list}\n`);
    return 2;
  }
  const selected = wanted ? measurements.filter((m) => wanted.includes(m.name)) : measurements;
  const json = values.json ?? false;
  const options: BenchOptions = {
    quick: values.quick ?? false,
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
  };

  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim() ?? "unknown CPU"} × ${cpus.length}, Node ${process.version}, ${os.platform()} ${os.arch()}`;
  options.log(`${machine}${options.quick ? " (quick)" : ""}`);

  const metrics: Metric[] = [];
  const failures: { name: string; error: string }[] = [];
  const load = () => Math.round(os.loadavg()[0]! * 100) / 100;
  const loadAtStart = load();
  for (const measurement of selected) {
    const started = performance.now();
    try {
      const results = await measurement.run(options);
      // Other work on the machine skews every figure here: say how busy it was.
      const loadAvg = load();
      for (const result of results) {
        const metric = { ...result, load_avg_1m: loadAvg };
        metrics.push(metric);
        if (json)
          process.stdout.write(`${jsonLine({ ...metric, measurement: measurement.name, quick: options.quick })}\n`);
      }
      options.log(`${measurement.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ name: measurement.name, error: error instanceof Error ? error.message : String(error) });
      options.log(`${measurement.name} FAILED: ${message}`);
      if (json)
        process.stdout.write(
          `${JSON.stringify({ measurement: measurement.name, error: String((error as Error)?.message ?? error) })}\n`,
        );
    }
  }

  const loadAtEnd = load();
  const busy = Math.max(loadAtStart, loadAtEnd, ...metrics.map((m) => m.load_avg_1m as number)) > cpus.length;
  const loadLine =
    `load average (1 min): ${loadAtStart} at start, ${loadAtEnd} at end, on ${cpus.length} cores` +
    (busy ? " — the machine was busy with other work: timings are pessimistic and noisy" : "");
  options.log(loadLine);
  if (!json) {
    process.stdout.write(
      `edge-promo bench — ${machine}${options.quick ? " — QUICK run" : ""}\n${loadLine}\n\n${formatTable(metrics, failures)}\n`,
    );
  }
  return failures.length > 0 ? 1 : 0;
}
