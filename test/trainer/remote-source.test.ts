import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import {
  CLOUDFLARE_API_BASE_URL,
  CloudflareApiError,
  CloudflareAuthError,
  retryDelayMs,
} from "../../trainer/runtime/cloudflare-api.ts";
import { d1HttpConfigFromEnv, type D1HttpConfig } from "../../trainer/sources/d1-http.ts";
import type { LogSource } from "../../trainer/sources/log-source.ts";
import { remoteSource, type RemoteSourceOptions } from "../../trainer/sources/remote.ts";
import { STUB_ACCOUNT, STUB_DATABASE, STUB_TOKEN, startD1ApiStub, type D1ApiStub } from "./support/d1-api-stub.ts";
import { decisionRow, outcomeRow } from "./support/log-rows.ts";

const BASE_TS = Date.UTC(2026, 0, 1);
// Three decisions share each timestamp, inserted out of order: the keyset must break ties by id.
const decisions: DecisionRow[] = Array.from({ length: 25 }, (_, i) =>
  decisionRow({
    id: `d${String((i * 7) % 25).padStart(2, "0")}`,
    ts: BASE_TS + Math.floor(i / 3) * 1000,
    explored: i % 2 === 0,
  }),
);
const outcomes: OutcomeRow[] = Array.from({ length: 12 }, (_, i) =>
  outcomeRow({
    decisionId: `d${String(i % 4).padStart(2, "0")}`,
    ts: BASE_TS + Math.floor(i / 6) * 1000,
    kind: i % 3 === 0 ? "click" : "conversion",
    value: i,
    eventKey: `e${i}`,
  }),
);

const byTsThenId = (a: DecisionRow, b: DecisionRow) => a.ts - b.ts || (a.id < b.id ? -1 : 1);
const outcomeKey = (o: OutcomeRow) => [o.ts, o.decisionId, o.kind, o.eventKey] as const;
const byOutcomeKey = (a: OutcomeRow, b: OutcomeRow) => {
  const [x, y] = [outcomeKey(a), outcomeKey(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
};

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const all: T[][] = [];
  for await (const page of pages) all.push(page);
  return all;
}

let stub: D1ApiStub;
let config: D1HttpConfig;
beforeAll(async () => {
  stub = await startD1ApiStub();
  stub.insertDecisions(decisions);
  stub.insertOutcomes(outcomes);
  config = d1HttpConfigFromEnv({
    CLOUDFLARE_ACCOUNT_ID: STUB_ACCOUNT,
    CLOUDFLARE_D1_DATABASE_ID: STUB_DATABASE,
    CLOUDFLARE_API_TOKEN: STUB_TOKEN,
    CLOUDFLARE_API_BASE_URL: `${stub.baseUrl}/`,
  });
});
afterAll(() => stub.close());

/** A source whose waits are recorded instead of slept. */
function source(
  options: RemoteSourceOptions = {},
  overrides: Partial<D1HttpConfig> = {},
): { source: LogSource; delays: number[] } {
  const delays: number[] = [];
  const sleep = async (ms: number) => void delays.push(ms);
  return {
    source: remoteSource({ ...config, ...overrides }, { pageSize: 10, sleep, random: () => 0.5, ...options }),
    delays,
  };
}

describe("remote D1 source", () => {
  test("reads every row, oldest first, over several keyset pages", async () => {
    const { source: remote } = source();
    const before = stub.requests.length;
    const decisionPages = await collect(remote.decisions());
    expect(decisionPages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(decisionPages.flat()).toEqual([...decisions].sort(byTsThenId));
    expect(stub.requests.length - before).toBe(3);
    // Pages after the first start strictly after the last row seen, with no OFFSET.
    expect(stub.requests.at(-1)!.sql).not.toMatch(/offset/i);
    expect(stub.requests.at(-1)!.params).toContain(decisionPages[1]!.at(-1)!.id);

    const outcomePages = await collect(remote.outcomes());
    expect(outcomePages.map((p) => p.length)).toEqual([10, 2]);
    expect(outcomePages.flat()).toEqual([...outcomes].sort(byOutcomeKey));
  });

  test("counts the rows for progress", async () => {
    await expect(source().source.total!()).resolves.toEqual({ decisions: 25, outcomes: 12 });
  });

  test("waits as long as a 429's Retry-After says, then carries on", async () => {
    const retries: string[] = [];
    const { source: remote, delays } = source({ onRetry: ({ reason }) => retries.push(reason) });
    stub.failNext({
      status: 429,
      headers: { "retry-after": "2" },
      body: { success: false, errors: [{ code: 971, message: "Too many requests" }] },
    });
    expect((await collect(remote.decisions())).flat()).toHaveLength(25);
    expect(delays).toEqual([2000]);
    expect(retries).toEqual(["HTTP 429 (rate limited)"]);
  });

  test("backs off on 5xx", async () => {
    const { source: remote, delays } = source();
    stub.failNext({ status: 503 }, { status: 502 });
    expect((await collect(remote.outcomes())).flat()).toHaveLength(12);
    // Base 500 ms doubling per attempt, half of it jittered (random = 0.5 here).
    expect(delays).toEqual([375, 750]);
  });

  test("gives up after the configured number of attempts", async () => {
    const { source: remote } = source({ retry: { attempts: 3 } });
    stub.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    await expect(collect(remote.decisions())).rejects.toThrow(/after 3 attempts; last: HTTP 500/);
  });

  test("fails at once, saying what to check, when the token is refused", async () => {
    const { source: remote, delays } = source({}, { apiToken: "expired-token" });
    const failure = collect(remote.decisions());
    await expect(failure).rejects.toBeInstanceOf(CloudflareAuthError);
    await expect(failure).rejects.toThrow(/HTTP 403: 10000: Authentication error.*CLOUDFLARE_API_TOKEN/);
    expect(delays).toEqual([]);
  });

  test("reports other 4xx refusals without retrying", async () => {
    const { source: remote, delays } = source();
    stub.failNext({
      status: 400,
      body: { success: false, errors: [{ code: 7500, message: "no such table: decisions" }] },
    });
    const failure = collect(remote.decisions());
    await expect(failure).rejects.toBeInstanceOf(CloudflareApiError);
    await expect(failure).rejects.toThrow(
      "Cloudflare API refused the request (HTTP 400): 7500: no such table: decisions",
    );
    expect(delays).toEqual([]);
  });
});

describe("remote D1 configuration", () => {
  test("names every missing variable", () => {
    expect(() => d1HttpConfigFromEnv({ CLOUDFLARE_ACCOUNT_ID: "a" })).toThrow(
      /CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN/,
    );
  });

  test("uses the public API unless CLOUDFLARE_API_BASE_URL overrides it", () => {
    const env = { CLOUDFLARE_ACCOUNT_ID: "a", CLOUDFLARE_D1_DATABASE_ID: "d", CLOUDFLARE_API_TOKEN: "t" };
    expect(d1HttpConfigFromEnv(env).baseUrl).toBe(CLOUDFLARE_API_BASE_URL);
    expect(config.baseUrl).toBe(stub.baseUrl);
  });
});

describe("retryDelayMs", () => {
  const policy = { baseDelayMs: 500, maxDelayMs: 30_000 };
  const now = Date.UTC(2026, 0, 1);

  test("honours Retry-After in seconds or as an HTTP date", () => {
    expect(retryDelayMs(1, "3", now, policy, () => 0)).toBe(3000);
    expect(retryDelayMs(1, new Date(now + 4000).toUTCString(), now, policy, () => 0)).toBe(4000);
    expect(retryDelayMs(1, new Date(now - 4000).toUTCString(), now, policy, () => 0)).toBe(0);
  });

  test("backs off exponentially with jitter, up to the cap", () => {
    expect(retryDelayMs(1, null, now, policy, () => 0)).toBe(250);
    expect(retryDelayMs(1, null, now, policy, () => 1)).toBe(500);
    expect(retryDelayMs(3, null, now, policy, () => 1)).toBe(2000);
    expect(retryDelayMs(20, null, now, policy, () => 1)).toBe(30_000);
    expect(retryDelayMs(2, "soon", now, policy, () => 0)).toBe(500);
  });
});
