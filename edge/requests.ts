import { z } from "zod";
import { ApiError } from "./http/api-error.ts";

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
