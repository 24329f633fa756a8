import { parse as parseCookies } from "hono/utils/cookie";
import {
  parseProfileValue,
  ProfileValueError,
  type Profile,
  type ProfileFieldSpec,
  type ProfileValue,
} from "../../shared/profile.ts";
import { ApiError } from "../http/api-error.ts";

/**
 * The visitor's profile: each declared field from its source (the body's `context.profile`, a
 * header, a cookie), checked against its type. A body key that no field declares, or that a field
 * reads from elsewhere, is refused rather than ignored, so that a typo cannot silently turn a
 * field into "missing" for every visitor.
 */
export function readProfile(
  fields: readonly ProfileFieldSpec[],
  body: Readonly<Record<string, unknown>> | undefined,
  request: Request,
): Profile | undefined {
  for (const key of Object.keys(body ?? {})) {
    const field = fields.find((f) => f.name === key);
    if (field?.source.from !== "body") {
      const where = `context.profile.${key}`;
      throw new ApiError(
        400,
        "unknown_profile_field",
        field
          ? `${where}: the profile field "${key}" comes from the ${field.source.from}, not the body`
          : `${where}: no profile field "${key}" is declared`,
        where,
      );
    }
  }
  if (fields.length === 0) return undefined;
  // Parsed only when a field reads a cookie: most shops' profiles come from the body or a header.
  const cookies = fields.some((f) => f.source.from === "cookie")
    ? parseCookies(request.headers.get("cookie") ?? "")
    : {};
  const profile: Record<string, ProfileValue> = {};
  try {
    for (const field of fields) {
      const { raw, where } = rawValueOf(field, body, request, cookies);
      profile[field.name] = parseProfileValue(field, raw, where);
    }
  } catch (error) {
    if (error instanceof ProfileValueError) {
      throw new ApiError(400, "invalid_profile_value", error.message, error.field);
    }
    throw error;
  }
  return profile;
}

/** A field's value as its source carries it, and how to name that source in an error. */
function rawValueOf(
  field: ProfileFieldSpec,
  body: Readonly<Record<string, unknown>> | undefined,
  request: Request,
  cookies: Readonly<Record<string, string>>,
): { raw: unknown; where: string } {
  const { source } = field;
  switch (source.from) {
    case "body":
      return { raw: body?.[field.name], where: `context.profile.${field.name}` };
    case "header":
      return { raw: request.headers.get(source.header) ?? undefined, where: `header ${source.header}` };
    case "cookie":
      return { raw: cookies[source.cookie], where: `cookie ${source.cookie}` };
  }
}
