/**
 * A child process of the archive-scale measurement: reads every decision of the archive directory
 * given as its argument through the trainer's archive source, and prints one JSON line with the row
 * count, the seconds it took and this process's peak resident memory. Alone in its process, so that
 * its peak is the reader's own.
 */
import { archiveDirectorySource } from "../trainer/sources/archive.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node bench/archive-read.ts <archive directory>");
const source = await archiveDirectorySource(dir, { memoryLimit: "512MB" });
const start = performance.now();
let rows = 0;
try {
  for await (const page of source.decisions()) rows += page.length;
} finally {
  await source.close();
}
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ rows, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
