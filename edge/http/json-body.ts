import { ApiError } from "./api-error.ts";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "body_too_large", `request body exceeds ${maxBytes} bytes`);
}

/**
 * Reads the body, refusing it past `maxBytes`. Content-Length is checked first, to refuse without
 * reading, but it may be absent (chunked) or wrong, so the bytes are counted as they arrive too.
 */
async function readAtMost(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client went away (or its stream broke) mid-body: its mistake, not ours, so a 400
      // rather than an unhandled error; nobody may be left to read it.
      throw new ApiError(400, "incomplete_body", "the request body ended before it was complete");
    });
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** application/json, or a structured-syntax type such as application/merge-patch+json, with any parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * The request body as parsed JSON, or an {@link ApiError} saying why it is not. The JSON content
 * type is required: a browser sends one cross-site only after a CORS preflight, which a plain form
 * post or a `text/plain` beacon from another site never gets, so another site cannot post here.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (!JSON_MEDIA_TYPE.test(request.headers.get("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "send the body as JSON, with Content-Type: application/json");
  }
  const bytes = await readAtMost(request, maxBytes);
  if (bytes.length === 0) throw new ApiError(400, "invalid_json", "request body is empty; expected a JSON object");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "invalid_json", `request body is not valid JSON: ${(error as Error).message}`);
  }
}
