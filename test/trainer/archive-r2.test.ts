import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { decisionsParquet, outcomesParquet } from "../../edge/archive/parquet.ts";
import { archivePartKey, partitionByDay } from "../../shared/archive.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { controlChooser } from "../../trainer/sim/chooser.ts";
import { simulateTraffic } from "../../trainer/sim/simulate.ts";
import { openLogSource, parseSourceSpec } from "../../trainer/sources/index.ts";
import { readAllLogs } from "../../trainer/sources/read-all.ts";

const BUCKET = "edge-promo-archive";
const objects = new Map<string, Uint8Array>();
const authorizations: string[] = [];
let endpoint: string;
let close: () => Promise<void>;
let decisions: DecisionRow[];
let outcomes: OutcomeRow[];

/** Parts by day, as the Worker writes them, with one decision part written twice under two names. */
function store(rows: DecisionRow[], outcomeRows: OutcomeRow[]) {
  let n = 0;
  for (const [day, dayRows] of partitionByDay(rows)) {
    const bytes = new Uint8Array(decisionsParquet(dayRows));
    objects.set(archivePartKey("decisions", day, `p${n++}`), bytes);
    if (n === 1) objects.set(archivePartKey("decisions", day, "p-again"), bytes);
  }
  for (const [day, dayRows] of partitionByDay(outcomeRows)) {
    objects.set(archivePartKey("outcomes", day, `o${n++}`), new Uint8Array(outcomesParquet(dayRows)));
  }
}

/** R2's S3 API, as much of it as the trainer uses: ListObjectsV2 (two keys a page) and GetObject. */
beforeAll(async () => {
  const run = simulateTraffic({
    seed: 99,
    visitors: 120,
    policy: controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC, DEFAULT_CONTROL),
  });
  decisions = run.steps.map((s) => s.decision);
  outcomes = run.steps.flatMap((s) => s.outcomes);
  store(decisions, outcomes);
  const server = createServer((request, response) => {
    authorizations.push(request.headers.authorization ?? "");
    const url = new URL(request.url ?? "/", "http://stub");
    if (url.pathname === `/${BUCKET}` && url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const from = Number(url.searchParams.get("continuation-token") ?? "0");
      const page = keys.slice(from, from + 2);
      const truncated = from + 2 < keys.length;
      response.writeHead(200, { "content-type": "application/xml" });
      return response.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${BUCKET}</Name>` +
          page.map((k) => `<Contents><Key>${k}</Key></Contents>`).join("") +
          `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${from + 2}</NextContinuationToken>` : ""}</ListBucketResult>`,
      );
    }
    const body = objects.get(decodeURIComponent(url.pathname.slice(`/${BUCKET}/`.length)));
    if (!body) {
      response.writeHead(404);
      return response.end("<Error><Code>NoSuchKey</Code></Error>");
    }
    response.writeHead(200, { "content-type": "application/vnd.apache.parquet" });
    response.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
}, 60_000);
afterAll(async () => {
  await close?.();
});

test("--source archive:r2 reads the archive from a bucket's S3 API with signed requests, one row per key, in order", async () => {
  const env = { R2_ACCESS_KEY_ID: "key-id", R2_SECRET_ACCESS_KEY: "secret", R2_ENDPOINT: endpoint };
  const source = await openLogSource(parseSourceSpec("archive:r2", { env }));
  const read = await readAllLogs(source, { quiet: true }).finally(() => source.close());

  const byTime =
    <T extends { ts: number }>(key: (r: T) => string) =>
    (a: T, b: T) =>
      a.ts - b.ts || key(a).localeCompare(key(b));
  expect(read.decisions).toEqual([...decisions].sort(byTime((r) => r.id)));
  expect(read.outcomes.length).toBe(outcomes.length);
  expect(new Set(read.outcomes.map((o) => `${o.decisionId}/${o.kind}/${o.eventKey}`)).size).toBe(outcomes.length);
  expect(authorizations.length).toBeGreaterThan(objects.size);
  for (const auth of authorizations)
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=key-id\/\d{8}\/auto\/s3\/aws4_request, SignedHeaders=/);
});

test("--source archive:r2 says which credentials are missing before any request", () => {
  expect(() => parseSourceSpec("archive:r2", { env: {} })).toThrow(/R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY/);
  expect(() => parseSourceSpec("archive:r2", { env: { R2_ACCESS_KEY_ID: "a", R2_SECRET_ACCESS_KEY: "b" } })).toThrow(
    /CLOUDFLARE_ACCOUNT_ID/,
  );
});
