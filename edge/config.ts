/** The Worker's tunables, from its vars, in the units the code uses. */
export interface EdgeConfig {
  /** How long a decoded policy is served before the KV pointer is read again. 0 re-reads it on every request. */
  policyRefreshMs: number;
  /** How long a decision id is accepted by /v1/outcome. */
  decisionMaxAgeMs: number;
  maxBodyBytes: number;
  /** The most outcomes of one kind stored per decision. */
  maxOutcomesPerDecision: number;
  /** How long an offer token holds. */
  offerTtlMs: number;
  /** The largest value an outcome may report, in shop currency: beyond it the report is refused, not stored. */
  maxOutcomeValue: number;
  /** Whether a request may say what time it is (the simulator's header). Never in production. */
  simulatedClock: boolean;
  /** How long D1 keeps log rows (once archived): longer than decisionMaxAgeMs, so late outcomes find their decision. */
  retentionMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const DEFAULTS = {
  POLICY_REFRESH_SECONDS: 30,
  DECISION_MAX_AGE_SECONDS: 7 * 86_400,
  MAX_BODY_BYTES: 16_384,
  MAX_OUTCOME_VALUE: 100_000,
  OFFER_TTL_SECONDS: 86_400,
  MAX_OUTCOMES_PER_DECISION: 20,
  RETENTION_DAYS: 14,
};

/** A broken var fails every request loudly rather than running with a guess. */
function numberVar(env: Env, name: keyof typeof DEFAULTS, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return DEFAULTS[name];
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new ConfigError(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return value;
}

export function readConfig(env: Env): EdgeConfig {
  const decisionMaxAgeMs = numberVar(env, "DECISION_MAX_AGE_SECONDS", 1) * 1000;
  const retentionMs = numberVar(env, "RETENTION_DAYS", 1) * 86_400_000;
  if (retentionMs <= decisionMaxAgeMs) {
    throw new ConfigError(
      `RETENTION_DAYS (${retentionMs / 86_400_000}) must exceed DECISION_MAX_AGE_SECONDS (${decisionMaxAgeMs / 86_400_000} days): outcomes reported late would find their decision deleted`,
    );
  }
  return {
    policyRefreshMs: numberVar(env, "POLICY_REFRESH_SECONDS", 0) * 1000,
    decisionMaxAgeMs,
    retentionMs,
    maxBodyBytes: numberVar(env, "MAX_BODY_BYTES", 256),
    maxOutcomeValue: numberVar(env, "MAX_OUTCOME_VALUE", 0),
    offerTtlMs: numberVar(env, "OFFER_TTL_SECONDS", 1) * 1000,
    maxOutcomesPerDecision: numberVar(env, "MAX_OUTCOMES_PER_DECISION", 1),
    simulatedClock: simulatedClockVar(env),
  };
}

function simulatedClockVar(env: Env): boolean {
  const raw = env.SIMULATED_CLOCK?.trim() ?? "";
  if (raw === "" || raw === "off") return false;
  if (raw === "allow") return true;
  throw new ConfigError(`SIMULATED_CLOCK must be "allow" or "off", got "${raw}"`);
}
