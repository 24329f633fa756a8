import { ApiError } from "./api-error.ts";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "body_too_large", `request body exceeds ${maxBytes} bytes`);
}

function incomplete(): ApiError {
  // The client went away (or its stream broke) mid-body: its mistake, not ours, so a 400 rather
  // than an unhandled error; nobody may be left to read it.
  return new ApiError(400, "incomplete_body", "the request body ended before it was complete");
}

/**
 * Reads the body, refusing it past `maxBytes`. A declared Content-Length is checked first, to refuse
 * without reading; within the limit, the body is read whole by the runtime (over HTTP that header
 * frames the body, so it bounds the read), which is much cheaper than reading it in JavaScript.
 * Without one (chunked), the bytes are counted as they arrive. Either way the length is checked
 * after, for a caller in the same process whose header lies.
 */
async function readAtMost(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);
  if (declared !== null) {
    const body = await request.arrayBuffer().catch((): never => {
      throw incomplete();
    });
    const bytes = new Uint8Array(body);
    if (bytes.length > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read().catch((): never => {
      throw incomplete();
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
