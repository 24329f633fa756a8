import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { DecisionRow, OutcomeRow } from "../../../shared/schema.ts";
import { readMigrations } from "../../../scripts/migrations.ts";

export const STUB_ACCOUNT = "account-1";
export const STUB_DATABASE = "database-1";
export const STUB_TOKEN = "good-token";

/** A canned answer served instead of the query, once, in order (a 429, a 503, ...). */
export interface InjectedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * A stand-in for the Cloudflare D1 REST API's `/raw` endpoint on 127.0.0.1: it runs the SQL it is
 * sent against an in-memory SQLite database holding the project's migrations, so paging is tested
 * against real query results, and it can be told to fail the next requests first.
 */
export interface D1ApiStub {
  baseUrl: string;
  requests: { sql: string; params: unknown[] }[];
  failNext(...failures: InjectedFailure[]): void;
  insertDecisions(rows: readonly DecisionRow[]): void;
  insertOutcomes(rows: readonly OutcomeRow[]): void;
  close(): Promise<void>;
}

export async function startD1ApiStub(): Promise<D1ApiStub> {
  const db = new DatabaseSync(":memory:");
  for (const migration of readMigrations()) for (const query of migration.queries) db.exec(query);

  const failures: InjectedFailure[] = [];
  const requests: D1ApiStub["requests"] = [];
  const rawPath = `/client/v4/accounts/${STUB_ACCOUNT}/d1/database/${STUB_DATABASE}/raw`;

  const server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as { sql: string; params?: SQLInputValue[] };
    if (request.method !== "POST" || request.url !== rawPath)
      return send(response, 404, apiError(7000, "No route for that URI"));
    if (request.headers.authorization !== `Bearer ${STUB_TOKEN}`)
      return send(response, 403, apiError(10000, "Authentication error"));
    requests.push({ sql: body.sql, params: body.params ?? [] });
    const failure = failures.shift();
    if (failure)
      return send(response, failure.status, failure.body ?? apiError(0, "injected failure"), failure.headers);
    try {
      const statement = db.prepare(body.sql);
      statement.setReturnArrays(true);
      const rows = statement.all(...(body.params ?? []));
      const columns = statement.columns().map((c) => c.name);
      send(response, 200, {
        success: true,
        errors: [],
        messages: [],
        result: [{ success: true, meta: {}, results: { columns, rows } }],
      });
    } catch (error) {
      send(response, 400, apiError(7500, error instanceof Error ? error.message : String(error)));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    requests,
    failNext: (...next) => failures.push(...next),
    insertDecisions(rows) {
      const insert = db.prepare(
        `INSERT INTO decisions (id, ts, visitor_hash, policy_version, feature_spec_hash, catalogue_hash, context, features, state_key, eligible, action, propensity, explored, experiment_id, arm, shadow)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const r of rows) {
        insert.run(
          r.id,
          r.ts,
          r.visitorHash,
          r.policyVersion,
          r.featureSpecHash,
          r.catalogueHash ?? null,
          r.context,
          r.features,
          r.stateKey,
          r.eligible,
          r.action,
          r.propensity,
          r.explored ? 1 : 0,
          r.experimentId ?? null,
          r.arm ?? null,
          r.shadow ?? null,
        );
      }
    },
    insertOutcomes(rows) {
      const insert = db.prepare(
        "INSERT INTO outcomes (decision_id, ts, kind, value, event_key) VALUES (?, ?, ?, ?, ?)",
      );
      for (const r of rows) insert.run(r.decisionId, r.ts, r.kind, r.value, r.eventKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
        db.close();
      }),
  };
}

function apiError(code: number, message: string) {
  return { success: false, errors: [{ code, message }], messages: [], result: null };
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
