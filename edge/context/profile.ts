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
  const cookies = parseCookies(request.headers.get("cookie") ?? "");
  const profile: Record<string, ProfileValue> = {};
  try {
    for (const field of fields) {
      const { source } = field;
      switch (source.from) {
        case "body":
          profile[field.name] = parseProfileValue(field, body?.[field.name], `context.profile.${field.name}`);
          break;
        case "header":
          profile[field.name] = parseProfileValue(
            field,
            request.headers.get(source.header) ?? undefined,
            `header ${source.header}`,
          );
          break;
        case "cookie":
          profile[field.name] = parseProfileValue(field, cookies[source.cookie], `cookie ${source.cookie}`);
          break;
      }
    }
  } catch (error) {
    if (error instanceof ProfileValueError) {
      throw new ApiError(400, "invalid_profile_value", error.message, error.field);
    }
    throw error;
  }
  return profile;
}
