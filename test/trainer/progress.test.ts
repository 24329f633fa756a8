import { describe, expect, test } from "vitest";
import { formatDuration, formatProgress, startProgress, withProgress } from "../../trainer/runtime/progress.ts";

function fakeClock(start = 0) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe("progress", () => {
  test("prints nothing for fast work", () => {
    const lines: string[] = [];
    const { clock, advance } = fakeClock();
    const progress = startProgress({ label: "reading decisions", total: 100, log: (l) => lines.push(l), clock });
    advance(500);
    progress.add(100);
    progress.done();
    expect(lines).toEqual([]);
  });

  test("prints throttled lines with rate and ETA, then a final line", () => {
    const lines: string[] = [];
    const { clock, advance } = fakeClock();
    const progress = startProgress({
      label: "reading decisions",
      total: 10_000,
      log: (l) => lines.push(l),
      clock,
      intervalMs: 1000,
    });
    advance(1000);
    progress.add(2500);
    advance(200);
    progress.add(500); // within the interval: no line
    advance(800);
    progress.add(1000);
    advance(4000);
    progress.done();
    expect(lines).toEqual([
      "reading decisions: 2,500 of 10,000 rows (25%), 2,500 rows/s, about 3 s left",
      "reading decisions: 4,000 of 10,000 rows (40%), 2,000 rows/s, about 3 s left",
      "reading decisions: 4,000 rows in 6 s (667 rows/s)",
    ]);
  });

  test("shows no percentage or ETA when the total is unknown", () => {
    expect(formatProgress({ label: "reading outcomes", rows: 1234, elapsedMs: 2000 })).toBe(
      "reading outcomes: 1,234 rows, 617 rows/s",
    );
  });

  test("is silent when quiet", () => {
    const lines: string[] = [];
    const { clock, advance } = fakeClock();
    const progress = startProgress({ label: "x", quiet: true, log: (l) => lines.push(l), clock, intervalMs: 0 });
    advance(10_000);
    progress.add(1);
    progress.done();
    expect(lines).toEqual([]);
  });

  test("counts the rows of pages passing through", async () => {
    const lines: string[] = [];
    const { clock, advance } = fakeClock();
    async function* pages() {
      for (const size of [3, 4]) {
        advance(1000);
        yield new Array<number>(size).fill(0);
      }
    }
    const seen: number[] = [];
    for await (const page of withProgress(pages(), { label: "p", log: (l) => lines.push(l), clock, intervalMs: 1000 }))
      seen.push(page.length);
    expect(seen).toEqual([3, 4]);
    expect(lines.at(-1)).toBe("p: 7 rows in 2 s (4 rows/s)");
  });

  test("formats durations for people", () => {
    expect(formatDuration(59_400)).toBe("59 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
    expect(formatDuration(3 * 3_600_000 + 60_000)).toBe("3 h 1 min");
  });
});
