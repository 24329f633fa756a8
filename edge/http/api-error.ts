import type { ContentfulStatusCode } from "hono/utils/http-status";

/** What every error response carries: a stable code for programs, and a sentence for people. */
export interface ErrorBody {
  error: string;
  /** The offending request field, as a path (`context.cartValue`, `candidates[1]`), when there is one. */
  field?: string;
  message: string;
}

/** A failure the client can act on. Anything else that escapes a handler is a 500. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: ContentfulStatusCode, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  get body(): ErrorBody {
    return this.field === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, field: this.field, message: this.message };
  }
}
