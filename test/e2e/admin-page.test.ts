import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { writeLogMessages } from "../../edge/logging/d1-writer.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import type { LogMessage } from "../../shared/schema.ts";
import { openLocalBindings } from "../../trainer/runtime/local-bindings.ts";
import { controlChooser } from "../../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../../trainer/sim/model.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { applyLocalMigrations, ROOT } from "../../scripts/local-env.ts";
import { startLocalWorker, type LocalWorker } from "../../scripts/local-worker.ts";

/** Debian's chromium (`apt-get install -y chromium`, which .ci/run does), or CHROMIUM_PATH. */
const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => p !== undefined && existsSync(p),
);
const ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef";
const EXPERIMENT = "page-test";
/** Where the screenshot the README shows is written (reports/ is not tracked; docs/ holds the copy). */
const SCREENSHOT = path.join(ROOT, "reports", "admin-dashboard.png");

/** Seeds local D1 with a few days of simulated traffic, half of it logged under the experiment's two arms. */
async function seed(persistTo: string): Promise<Record<string, number>> {
  const run = simulateTraffic({
    seed: 4242,
    visitors: 400,
    policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
  });
  const visitorsPerArm: Record<string, Set<string>> = { control: new Set(), fixed5: new Set() };
  const messages: LogMessage[] = run.steps.flatMap((s) => {
    const arm = s.visitor % 2 === 0 ? "control" : "fixed5";
    visitorsPerArm[arm]!.add(s.decision.visitorHash);
    return [
      { type: "decision" as const, row: { ...s.decision, experimentId: EXPERIMENT, arm } },
      ...s.outcomes.map((row) => ({ type: "outcome" as const, row })),
    ];
  });
  const bindings = await openLocalBindings({ persistTo });
  try {
    await writeLogMessages(bindings.DB, messages);
    await new ExperimentRegistry(bindings.POLICY).start({
      id: EXPERIMENT,
      startedAt: new Date(DEFAULT_SIM_MODEL.startTime).toISOString(),
      arms: [
        { name: "control", serves: { type: "control" }, weight: 1 },
        { name: "fixed5", serves: { type: "promotion", id: "fixed5" }, weight: 1 },
      ],
    });
  } finally {
    await bindings.dispose();
  }
  return Object.fromEntries(Object.entries(visitorsPerArm).map(([arm, set]) => [arm, set.size]));
}

describe.skipIf(CHROMIUM === undefined && !process.env.CI)("the /admin page in a real browser", () => {
  let dir: string;
  let worker: LocalWorker;
  let browser: Browser;
  let visitors: Record<string, number>;

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error("no chromium: apt-get install -y chromium, or set CHROMIUM_PATH");
    dir = await mkdtemp(path.join(tmpdir(), "edge-promo-admin-"));
    await applyLocalMigrations(dir);
    visitors = await seed(dir);
    worker = await startLocalWorker({ persistTo: dir, vars: { ADMIN_TOKEN } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("without the token the page is a 401", async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${worker.url}/admin`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent("body")).toContain("admin_token_required");
  });

  test("with it, Chromium shows the seeded experiment's figures, the plots and the log health", async () => {
    const context = await browser.newContext({
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
      viewport: { width: 1200, height: 900 },
    });
    const page = await context.newPage();
    const response = await page.goto(`${worker.url}/admin`);
    expect(response?.status()).toBe(200);

    expect(await page.textContent("#policy")).toContain("fallback");
    expect(await page.textContent("#experiment")).toContain(`Running: ${EXPERIMENT}`);
    for (const [arm, count] of Object.entries(visitors)) {
      const row = page.locator("#experiment table.arms tr", { has: page.locator(`th:text-is("${arm}")`) });
      expect(await row.locator("td").first().textContent()).toBe(String(count));
    }
    expect(await page.locator("#trends svg").count()).toBe(3);
    expect(await page.locator("#trends polyline").count()).toBeGreaterThanOrEqual(3);
    expect(await page.textContent("#logs")).toContain("lost");
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await context.close();
  });
});
