import { decideResponseSchema, type DecideRequest, type DecideResponse } from "../../shared/api.ts";
import type { DeviceClass } from "../../shared/context.ts";
import { SIMULATED_TIME_HEADER } from "../../shared/simulated-clock.ts";
import { arrivalState } from "./latent.ts";
import { DEFAULT_SIM_MODEL, validateModel, type SimModel } from "./model.ts";
import { OUTCOME_DELAY_MS } from "./simulate.ts";
import { compileTraffic, drawVisitor, type Traffic } from "./traffic.ts";
import { advance, requestContext, respondToPromotion, stepStreams, type RequestContext } from "./visitor-life.ts";

/**
 * Drives a running Worker with simulated visitors over HTTP: the same visitors as in-process (same
 * seed, same pages, same responses), but the Worker decides. Each visitor keeps its own cookie jar,
 * so the Worker's signed cookie carries its memory from one page view to the next.
 *
 * Every request carries the simulated time (the x-simulated-time header): a Worker started with
 * SIMULATED_CLOCK = "allow" (as `npm run demo` starts it) then sees the same visit gaps, exposure
 * windows and timestamps as the in-process simulator; any other Worker ignores the header and sees
 * one long visit. The Worker's decision ids, hence its exploration draws, are its own, so runs are not
 * repeatable action for action.
 */
export interface DriveOptions {
  /** Base URL of the Worker, e.g. http://127.0.0.1:8787. */
  target: string;
  seed: number;
  visitors: number;
  /** Visitors in flight at once (page views of one visitor are always sequential). Default 16. */
  concurrency?: number;
  /** Page views per visitor at most. Default 20. */
  maxSteps?: number;
  model?: SimModel;
  /** The fetch to use (tests pass an in-process one). Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface DriveReport {
  target: string;
  visitors: number;
  decisions: number;
  outcomes: number;
  /** Requests that failed, by route; by HTTP status (or "network"); and a few messages to show. */
  failures: { decide: number; outcome: number; byStatus: Record<string, number>; examples: string[] };
  /** Realised Σ γ^t reward per visitor, and the undiscounted reward per visitor. */
  valuePerVisitor: number;
  rewardPerVisitor: number;
  /** Decisions per promotion id, and per policy version the Worker reported. */
  actions: Record<string, number>;
  policyVersions: Record<string, number>;
}

/** A representative User-Agent per device class, since the Worker derives the class from it. */
export const USER_AGENTS: Readonly<Record<DeviceClass, string>> = {
  mobile:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  tablet:
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  desktop:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  other:
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
};

const MAX_EXAMPLES = 5;

export async function driveWorker(options: DriveOptions): Promise<DriveReport> {
  const model = options.model ?? DEFAULT_SIM_MODEL;
  validateModel(model);
  const traffic = compileTraffic(model);
  const report: DriveReport = {
    target: options.target,
    visitors: options.visitors,
    decisions: 0,
    outcomes: 0,
    failures: { decide: 0, outcome: 0, byStatus: {}, examples: [] },
    valuePerVisitor: 0,
    rewardPerVisitor: 0,
    actions: {},
    policyVersions: {},
  };
  let nextVisitor = 0;
  const lane = async () => {
    while (nextVisitor < options.visitors) await driveVisitor(options, traffic, nextVisitor++, report);
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, lane));
  report.valuePerVisitor /= Math.max(1, options.visitors);
  report.rewardPerVisitor /= Math.max(1, options.visitors);
  return report;
}

async function driveVisitor(
  options: DriveOptions,
  traffic: Traffic,
  index: number,
  report: DriveReport,
): Promise<void> {
  const { model } = traffic;
  const visitor = drawVisitor(traffic, options.seed, index);
  const client = new VisitorClient(options, visitor.device, report);
  let latent = arrivalState(model, visitor.segment);
  let ts = visitor.arrival;
  let referrer = visitor.referrer;
  let discount = 1;

  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    const streams = stepStreams(options.seed, index, step);
    const context = requestContext(traffic, visitor, ts, referrer, streams.world);
    const answer = await client.decide(context, ts);
    if (!answer) return;
    const action = model.catalogue.findIndex((p) => p.id === answer.promotion.id);
    if (action === -1) {
      client.fail(
        "decide",
        "unknown-promotion",
        `the Worker chose "${answer.promotion.id}", not in the simulator's catalogue`,
      );
      return;
    }
    report.decisions++;
    report.actions[answer.promotion.id] = (report.actions[answer.promotion.id] ?? 0) + 1;
    report.policyVersions[answer.policyVersion] = (report.policyVersions[answer.policyVersion] ?? 0) + 1;

    const result = respondToPromotion(model, latent, context, action, streams.dice);
    report.valuePerVisitor += discount * result.reward;
    report.rewardPerVisitor += result.reward;
    for (const outcome of result.outcomes) {
      const eventKey = outcome.kind === "click" ? undefined : `order-${answer.decisionId}`;
      await client.outcome(
        { decisionId: answer.decisionId, kind: outcome.kind, value: outcome.value, eventKey },
        ts + OUTCOME_DELAY_MS[outcome.kind],
      );
    }

    const next = advance(traffic, visitor, ts, referrer, result.latent, streams);
    if (!next) return;
    ({ ts, referrer, latent } = next);
    discount *= model.gamma;
  }
}

/** One visitor's side of the HTTP conversation: its cookie jar, its User-Agent, and failure counting. */
class VisitorClient {
  private readonly cookies = new Map<string, string>();
  private readonly options: DriveOptions;
  private readonly userAgent: string;
  private readonly report: DriveReport;

  constructor(options: DriveOptions, device: DeviceClass, report: DriveReport) {
    this.options = options;
    this.userAgent = USER_AGENTS[device];
    this.report = report;
  }

  async decide(context: RequestContext, ts: number): Promise<DecideResponse | null> {
    const request: DecideRequest = { context };
    const response = await this.post("decide", "/v1/decide", request, ts);
    if (!response) return null;
    const body: unknown = await response.json().catch(() => null);
    const answer = decideResponseSchema.safeParse(body);
    if (!answer.success)
      return this.fail("decide", "bad-answer", `/v1/decide answered ${JSON.stringify(body)?.slice(0, 200)}`);
    return answer.data;
  }

  async outcome(
    body: { decisionId: string; kind: string; value: number; eventKey: string | undefined },
    ts: number,
  ): Promise<void> {
    const response = await this.post("outcome", "/v1/outcome", body, ts);
    if (!response) return;
    await response.body?.cancel();
    this.report.outcomes++;
  }

  /** Counts a failure; returns null so that a request helper can answer with it. */
  fail(route: "decide" | "outcome", status: string, message: string): null {
    const failures = this.report.failures;
    failures[route]++;
    failures.byStatus[status] = (failures.byStatus[status] ?? 0) + 1;
    if (failures.examples.length < MAX_EXAMPLES) failures.examples.push(message);
    return null;
  }

  /** `ts` is sent as the simulated time, which a Worker running with SIMULATED_CLOCK = "allow" adopts. */
  private async post(route: "decide" | "outcome", path: string, body: unknown, ts: number): Promise<Response | null> {
    const fetchImpl = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetchImpl(new URL(path, this.options.target), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": this.userAgent,
          [SIMULATED_TIME_HEADER]: String(ts),
          ...this.cookieHeader(),
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return this.fail(route, "network", `${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.storeCookies(response);
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      return this.fail(route, String(response.status), `${path} → ${response.status} ${text.slice(0, 200)}`);
    }
    return response;
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
  }

  private storeCookies(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(";", 1)[0]!;
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /;\s*max-age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}
