import { z } from "zod";
import { contextSchema } from "../shared/context.ts";
import { isTimeZone } from "./context/clock.ts";
import { ApiError } from "./http/api-error.ts";

const fields = contextSchema.shape;

/**
 * What the page tells /v1/decide. Only page type and cart value are required: the rest defaults to
 * what the request itself says (User-Agent, cf.country, cf.timezone, Referer). Fields the client
 * sends take precedence, because a shop's server calling on a visitor's behalf knows the visitor's
 * device and country, and its own request headers do not. Unknown keys are ignored.
 */
export const decideRequestSchema = z.object({
  context: z.object({
    page: fields.page,
    cartValue: fields.cartValue,
    /** A referrer class, or a URL (the page's `document.referrer`) to classify. */
    referrer: z.string().max(2048).optional(),
    device: fields.device.optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, "expected an ISO 3166-1 alpha-2 country code")
      .transform((code) => code.toUpperCase())
      .optional(),
    timezone: z.string().max(64).refine(isTimeZone, "expected an IANA time zone such as Europe/Paris").optional(),
    localHour: fields.localHour.optional(),
    weekday: fields.weekday.optional(),
  }),
  /** Promotion ids the page has room for; absent means any. */
  candidates: z.array(z.string().max(64)).min(1).max(64).optional(),
});
export type DecideRequest = z.infer<typeof decideRequestSchema>;
export type RequestContext = DecideRequest["context"];

const decisionId = z.string().min(1).max(128);
const eventKey = z.string().min(1).max(128).optional();
const amount = z.number().min(0).max(1e9);

/** What the site reports to /v1/outcome. Conversions and refunds must say how much. */
export const outcomeRequestSchema = z.discriminatedUnion("kind", [
  z.object({ decisionId, kind: z.literal("click"), value: amount.optional(), eventKey }),
  z.object({ decisionId, kind: z.literal("conversion"), value: amount, eventKey }),
  z.object({ decisionId, kind: z.literal("refund"), value: amount, eventKey }),
]);

/** `["candidates", 1]` → `candidates[1]`; `["context", "page"]` → `context.page`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
}

/** Parses `body` with `schema`, or throws a 400 naming the first offending field. */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = fieldPath(issue.path);
  if (field === "") throw new ApiError(400, "invalid_body", `request body: ${issue.message}`);
  throw new ApiError(400, "invalid_body", `${field}: ${issue.message}`, field);
}

/** Throws a 400 naming the first candidate that is not a promotion of the catalogue. */
export function checkCandidates(candidates: readonly string[] | undefined, actionIds: readonly string[]): void {
  candidates?.forEach((id, i) => {
    if (!actionIds.includes(id)) {
      throw new ApiError(
        400,
        "unknown_promotion",
        `candidates[${i}]: unknown promotion id "${id}"`,
        `candidates[${i}]`,
      );
    }
  });
}
