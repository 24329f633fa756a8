/**
 * Small synchronous hashes. None of them is a security primitive: HMACs and SHA-256 live where
 * WebCrypto is at hand. These exist because the hot path and the binary format need answers without
 * awaiting a promise, and both sides (Worker and Node) must compute exactly the same numbers.
 */

const textEncoder = new TextEncoder();

/** 53-bit string hash (cyrb53): wide enough that a uniform draw derived from it has no visible grid. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A number in [0, 1) that depends only on `text`: the exploration draw of a decision. */
export function uniformFromString(text: string): number {
  return hash53(text) / 2 ** 53;
}

/** Stable short fingerprint of a string, as 16 hex digits. */
export function fingerprint(text: string): string {
  return hash53(text).toString(16).padStart(14, "0") + hash53(text, 1).toString(16).slice(-2).padStart(2, "0");
}

/** JSON with object keys sorted, so that equal data always hashes equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

/** SHA-256 as lowercase hex, via WebCrypto (present in Workers and in Node ≥ 19). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
