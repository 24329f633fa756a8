/**
 * The requests the HTTP measurements send: /v1/decide bodies over varied contexts, from a pool of
 * visitors whose signed cookies are kept between requests (so the edge verifies and re-signs a real
 * cookie, as for returning visitors), with varied User-Agents and Referers.
 */
import { variedDecisionInputs } from "./fixtures.ts";

/** One request of a load, in the terms of both drivers: node:http (load.ts) and the in-workerd loop. */
export interface LoadRequest {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Answer headers as node:http gives them: set-cookie as a list. */
export type AnswerHeaders = Readonly<Record<string, string | string[] | undefined>>;

const USER_AGENTS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
];
const REFERERS = [
  "",
  "https://www.google.com/",
  "https://www.instagram.com/",
  "https://mail.example.com/",
  "https://shop.example/",
];

export interface DecideTraffic {
  request(n: number): LoadRequest;
  onResponse(n: number, status: number, headers: AnswerHeaders, body: string): void;
}

export interface TrafficOptions {
  /** Before /v1/decide: "" for the edge, "/bare" for the bare worker. */
  pathPrefix?: string;
  /** A Host header, for workers routed by host. */
  host?: string;
  /** Keep and send back each visitor's cookie (default true). */
  cookies?: boolean;
  visitors?: number;
}

/** POST /v1/decide traffic: the same bodies and headers whichever worker it is aimed at. */
export function decideTraffic(options: TrafficOptions = {}): DecideTraffic {
  const inputs = variedDecisionInputs(2048, 21);
  const bodies = inputs.map(({ context }, i) =>
    JSON.stringify({
      context: {
        page: context.page,
        cartValue: context.cartValue,
        // Half the bodies say where the visitor is and on what; the rest leave it to the request.
        ...(i % 2 === 0 ? { country: context.country, device: context.device } : {}),
        ...(i % 3 === 0 ? { referrer: context.referrer } : {}),
        ...(i % 4 === 0 ? { timezone: "Europe/Paris" } : {}),
      },
    }),
  );
  // Declared, as every HTTP client declares a body's length: the edge reads it whole then.
  const lengths = bodies.map((body) => String(new TextEncoder().encode(body).length));
  const visitors = options.visitors ?? 512;
  const cookies: (string | undefined)[] = new Array(visitors);
  const path = `${options.pathPrefix ?? ""}/v1/decide`;
  return {
    request(n) {
      const v = n % visitors;
      const i = n % bodies.length;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "content-length": lengths[i]!,
        "user-agent": USER_AGENTS[v % USER_AGENTS.length]!,
        "cf-connecting-ip": "203.0.113.7",
      };
      if (options.host) headers.host = options.host;
      const referer = REFERERS[n % REFERERS.length]!;
      if (referer) headers.referer = referer;
      const cookie = cookies[v];
      if (cookie) headers.cookie = cookie;
      return { method: "POST", path, headers, body: bodies[i]! };
    },
    onResponse(n, status, headers) {
      if (status !== 200 || options.cookies === false) return;
      const set = headers["set-cookie"];
      const first = Array.isArray(set) ? set[0] : set;
      if (first) cookies[n % visitors] = first.split(";", 1)[0];
    },
  };
}
