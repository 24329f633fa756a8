import { z } from "zod";

/** Where and as whom to query a D1 database through the Cloudflare REST API. */
export interface D1HttpConfig {
  accountId: string;
  databaseId: string;
  apiToken: string;
  /** API root, `https://api.cloudflare.com/client/v4` unless CLOUDFLARE_API_BASE_URL says otherwise. */
  baseUrl: string;
}

export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";

export function d1HttpConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): D1HttpConfig {
  const required = ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_D1_DATABASE_ID", "CLOUDFLARE_API_TOKEN"] as const;
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`reading remote D1 needs ${missing.join(", ")} in the environment (an API token with D1 Read on the account)`);
  }
  return {
    accountId: env.CLOUDFLARE_ACCOUNT_ID!,
    databaseId: env.CLOUDFLARE_D1_DATABASE_ID!,
    apiToken: env.CLOUDFLARE_API_TOKEN!,
    baseUrl: (env.CLOUDFLARE_API_BASE_URL || CLOUDFLARE_API_BASE_URL).replace(/\/+$/, ""),
  };
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per request; a request that takes longer is retried like a network error. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 60_000 };

/** A refusal the API will repeat however often it is asked. */
export class D1HttpError extends Error {
  override name = "D1HttpError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** The token or account was refused (401/403): no retry can help. */
export class D1AuthError extends D1HttpError {
  override name = "D1AuthError";
}

export interface D1HttpClientOptions {
  retry?: Partial<RetryPolicy>;
  /** Told about each retry, e.g. to warn on stderr. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface RawResult {
  columns: string[];
  rows: unknown[][];
}

/** One statement against D1's `/raw` endpoint, which returns rows as arrays in column order. */
export type D1RawQuery = (sql: string, params: readonly unknown[]) => Promise<RawResult>;

const apiMessagesSchema = z.object({
  success: z.boolean().optional(),
  errors: z.array(z.object({ code: z.number().optional(), message: z.string() })).optional(),
});

const rawResponseSchema = z.object({
  success: z.literal(true),
  result: z.array(z.object({ results: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }) })).min(1),
});

/**
 * A D1 client over HTTP that survives a busy API: 429 waits as long as Retry-After says, 5xx,
 * timeouts and network failures back off exponentially (with jitter, so that parallel readers do
 * not retry in lockstep), and an authentication refusal fails at once with what to check.
 */
export function d1RawClient(config: D1HttpConfig, options: D1HttpClientOptions = {}): D1RawQuery {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const url = `${config.baseUrl}/accounts/${encodeURIComponent(config.accountId)}/d1/database/${encodeURIComponent(config.databaseId)}/raw`;

  return async (sql, params) => {
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptQuery(url, config.apiToken, sql, params, policy.timeoutMs);
      if ("result" in outcome) return outcome.result;
      if (attempt >= policy.attempts) {
        throw new D1HttpError(`D1 query failed after ${attempt} attempts; last: ${outcome.retry}`, outcome.status ?? 0);
      }
      const delayMs = retryDelayMs(attempt, outcome.retryAfter ?? null, Date.now(), policy, random);
      options.onRetry?.({ attempt, delayMs, reason: outcome.retry });
      await sleep(delayMs);
    }
  };
}

type AttemptOutcome = { result: RawResult } | { retry: string; status?: number; retryAfter?: string | null };

async function attemptQuery(
  url: string,
  token: string,
  sql: string,
  params: readonly unknown[],
  timeoutMs: number,
): Promise<AttemptOutcome> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ sql, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    return { retry: `network error: ${error instanceof Error ? error.message : String(error)}` };
  }
  const status = response.status;
  if (status === 429) return { retry: "HTTP 429 (rate limited)", status, retryAfter: response.headers.get("retry-after") };
  if (status >= 500) return { retry: `HTTP ${status}: ${apiErrorText(text)}`, status, retryAfter: response.headers.get("retry-after") };
  if (status === 401 || status === 403) {
    throw new D1AuthError(
      `Cloudflare API refused the credentials (HTTP ${status}: ${apiErrorText(text)}). ` +
        "Check CLOUDFLARE_API_TOKEN (it needs D1 Read on the account) and CLOUDFLARE_ACCOUNT_ID.",
      status,
    );
  }
  if (status >= 400) throw new D1HttpError(`D1 query refused (HTTP ${status}): ${apiErrorText(text)}`, status);
  const parsed = rawResponseSchema.safeParse(parseJson(text));
  if (!parsed.success) throw new D1HttpError(`unexpected D1 API response: ${apiErrorText(text)}`, status);
  return { result: parsed.data.result[0]!.results };
}

/** The API's own error messages when the body has them, else the start of the body. */
function apiErrorText(body: string): string {
  const parsed = apiMessagesSchema.safeParse(parseJson(body));
  const errors = parsed.success ? (parsed.data.errors ?? []) : [];
  if (errors.length > 0) return errors.map((e) => (e.code === undefined ? e.message : `${e.code}: ${e.message}`)).join("; ");
  return body.slice(0, 200) || "(empty body)";
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * How long to wait before retry number `attempt` (1 = after the first failure). A Retry-After
 * header (seconds, or an HTTP date) is the server saying when it will take the request: honoured
 * as given. Otherwise exponential backoff with "equal jitter": half fixed, half random.
 */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null,
  now: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number,
): number {
  const told = retryAfterMs(retryAfter, now);
  if (told !== undefined) return told;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
