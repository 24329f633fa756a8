/**
 * Unpadded base64url (RFC 4648 §5), by table: cookies, ids and tokens are encoded and decoded on
 * every request, and going through btoa/atob with binary strings and regex rewrites cost several
 * times more.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Every 12-bit value as its two characters: one lookup per 12 bits when encoding. */
const PAIRS = Array.from({ length: 4096 }, (_, v) => ALPHABET[v >> 6]! + ALPHABET[v & 63]!);
/** Character code → 6-bit value, −1 outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

export function toBase64Url(bytes: Uint8Array): string {
  let text = "";
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text += PAIRS[v >> 12]! + PAIRS[v & 4095]!;
  }
  if (bytes.length - whole === 1) text += PAIRS[bytes[whole]! << 4]!;
  if (bytes.length - whole === 2) {
    const v = (bytes[whole]! << 10) | (bytes[whole + 1]! << 2);
    text += PAIRS[v >> 6]! + ALPHABET[v & 63]!;
  }
  return text;
}

function valueAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? VALUES[code]! : -1;
}

/**
 * Decodes unpadded base64url in its one canonical spelling; null for anything else, so that callers
 * treat garbage as absent. The last character of a length that is not a multiple of 4 carries
 * unused bits, which must be 0: otherwise 3 or 15 other spellings of a signed id would verify too.
 */
export function fromBase64Url(text: string): Uint8Array | null {
  const rest = text.length % 4;
  if (rest === 1) return null;
  const bytes = new Uint8Array((text.length * 3) >> 2);
  const whole = text.length - rest;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = valueAt(text, i);
    const b = valueAt(text, i + 1);
    const c = valueAt(text, i + 2);
    const d = valueAt(text, i + 3);
    if ((a | b | c | d) < 0) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[o++] = v >> 16;
    bytes[o++] = (v >> 8) & 255;
    bytes[o++] = v & 255;
  }
  if (rest === 2) {
    const a = valueAt(text, whole);
    const b = valueAt(text, whole + 1);
    if ((a | b) < 0 || (b & 15) !== 0) return null;
    bytes[o] = (a << 2) | (b >> 4);
  }
  if (rest === 3) {
    const a = valueAt(text, whole);
    const b = valueAt(text, whole + 1);
    const c = valueAt(text, whole + 2);
    if ((a | b | c) < 0 || (c & 3) !== 0) return null;
    const v = (a << 12) | (b << 6) | c;
    bytes[o] = v >> 10;
    bytes[o + 1] = (v >> 2) & 255;
  }
  return bytes;
}
