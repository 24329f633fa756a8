import type { EdgeConfig } from "./config.ts";
import { SIMULATED_TIME_HEADER } from "../shared/simulated-clock.ts";
import { ApiError } from "./http/api-error.ts";

/**
 * The time a request happens at: the real clock, unless this deployment lets the simulator set it.
 * Everything a visitor's history depends on (visit gaps, 7-day exposure windows, decision-id age,
 * logged timestamps) follows it; policy refreshes do not, and keep the real clock.
 */
export function requestTime(request: Request, config: EdgeConfig): number {
  const header = request.headers.get(SIMULATED_TIME_HEADER);
  if (header === null || !config.simulatedClock) return Date.now();
  const ms = Number(header);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new ApiError(
      400,
      "invalid_simulated_time",
      `${SIMULATED_TIME_HEADER} must be epoch milliseconds, got "${header}"`,
    );
  }
  return ms;
}
