import { z } from "zod";

/** Calls to the Cloudflare REST API (remote D1 reads, remote KV publishes) with the retries a busy API needs. */

export const CLOUDFLARE_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** API root; CLOUDFLARE_API_BASE_URL overrides it (tests point it at a local stub). */
export function cloudflareApiBase(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return (env.CLOUDFLARE_API_BASE_URL || CLOUDFLARE_API_BASE_URL).replace(/\/+$/, "");
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The named variables, all of them, or an error naming every one missing and what it is for. */
export function requireEnv<const N extends string>(
  env: Environment,
  names: readonly N[],
  purpose: string,
  hint: string,
): Record<N, string> {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`${purpose} needs ${missing.join(", ")} in the environment (${hint})`);
  return Object.fromEntries(names.map((name) => [name, env[name]!])) as Record<N, string>;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per request; a request that takes longer is retried like a network error. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 60_000,
};

/** A refusal the API will repeat however often it is asked. */
export class CloudflareApiError extends Error {
  override name = "CloudflareApiError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** The token or account was refused (401/403): no retry can help. */
export class CloudflareAuthError extends CloudflareApiError {
  override name = "CloudflareAuthError";
}

export interface CloudflareFetchOptions {
  retry?: Partial<RetryPolicy>;
  /** Told about each retry, e.g. to warn on stderr. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** What the token needs, named in the message of an authentication refusal. */
  permission?: string;
}

type Attempt = { response: Response } | { retry: string; status?: number; retryAfter?: string | null };

/**
 * One API call that survives a busy API: 429 waits as long as Retry-After says; 5xx, timeouts and
 * network failures back off exponentially (with jitter, so that parallel clients do not retry in
 * lockstep); an authentication refusal fails at once with what to check. With `notFound: "null"`
 * a 404 answers null (a missing KV key) instead of throwing.
 */
export async function cloudflareFetch(
  url: string,
  token: string,
  init: RequestInit,
  options: CloudflareFetchOptions & { notFound: "null" },
): Promise<Response | null>;
export async function cloudflareFetch(
  url: string,
  token: string,
  init?: RequestInit,
  options?: CloudflareFetchOptions,
): Promise<Response>;
export async function cloudflareFetch(
  url: string,
  token: string,
  init: RequestInit = {},
  options: CloudflareFetchOptions & { notFound?: "null" } = {},
): Promise<Response | null> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptRequest(url, token, init, policy.timeoutMs);
    if ("response" in outcome) {
      const { response } = outcome;
      if (response.status === 404 && options.notFound === "null") return null;
      if (response.status === 401 || response.status === 403) {
        throw new CloudflareAuthError(
          `Cloudflare API refused the credentials (HTTP ${response.status}: ${apiErrorText(await response.text())}). ` +
            `Check CLOUDFLARE_API_TOKEN${options.permission ? ` (it needs ${options.permission})` : ""} and CLOUDFLARE_ACCOUNT_ID.`,
          response.status,
        );
      }
      if (!response.ok) {
        throw new CloudflareApiError(
          `Cloudflare API refused the request (HTTP ${response.status}): ${apiErrorText(await response.text())}`,
          response.status,
        );
      }
      return response;
    }
    if (attempt >= policy.attempts) {
      throw new CloudflareApiError(
        `Cloudflare API call failed after ${attempt} attempts; last: ${outcome.retry}`,
        outcome.status ?? 0,
      );
    }
    const delayMs = retryDelayMs(attempt, outcome.retryAfter ?? null, Date.now(), policy, random);
    options.onRetry?.({ attempt, delayMs, reason: outcome.retry });
    await sleep(delayMs);
  }
}

async function attemptRequest(url: string, token: string, init: RequestInit, timeoutMs: number): Promise<Attempt> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { ...Object.fromEntries(new Headers(init.headers)), authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { retry: `network error: ${error instanceof Error ? error.message : String(error)}` };
  }
  const status = response.status;
  if (status === 429 || status >= 500) {
    const body = await response.text().catch(() => "");
    const reason = status === 429 ? "HTTP 429 (rate limited)" : `HTTP ${status}: ${apiErrorText(body)}`;
    return { retry: reason, status, retryAfter: response.headers.get("retry-after") };
  }
  return { response };
}

const apiMessagesSchema = z.object({
  errors: z.array(z.object({ code: z.number().optional(), message: z.string() })).optional(),
});

/** The API's own error messages when the body has them, else the start of the body. */
export function apiErrorText(body: string): string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = apiMessagesSchema.safeParse(json);
  const errors = parsed.success ? (parsed.data.errors ?? []) : [];
  if (errors.length > 0)
    return errors.map((e) => (e.code === undefined ? e.message : `${e.code}: ${e.message}`)).join("; ");
  return body.slice(0, 200) || "(empty body)";
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
