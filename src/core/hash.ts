/** Digests (sha256) and the Nix-style base-32 text of a store hash; pure computation, no I/O. */
import { createHash } from "node:crypto";

/** A lowercase hex sha256 digest. */
export type Digest = string & { readonly __brand: "Digest" };

/** sha256 of a string (UTF-8) or bytes, as lowercase hex. */
export function sha256(data: string | Uint8Array): Digest {
  return createHash("sha256").update(data).digest("hex") as Digest;
}

const NIX_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** Encodes bytes in Nix's base-32 alphabet (the text of /nix/store hashes). */
export function nixBase32(bytes: Uint8Array): string {
  const len = Math.ceil((bytes.length * 8) / 5);
  let out = "";
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = ((bytes[i] ?? 0) >> j) | (j > 3 && i + 1 < bytes.length ? (bytes[i + 1] ?? 0) << (8 - j) : 0);
    out += NIX_BASE32[c & 0x1f];
  }
  return out;
}

/** The 32-character store hash of a fingerprint: sha256 truncated to 160 bits, in Nix base-32. */
export function storeHash(fingerprint: string): string {
  const full = createHash("sha256").update(fingerprint).digest();
  const folded = new Uint8Array(20);
  for (let i = 0; i < full.length; i++) folded[i % 20] ^= full[i]!;
  return nixBase32(folded);
}

/** JSON with object keys sorted at every level: the canonical text hashed for fingerprints. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    // No prototype: an own `__proto__` key (JSON.parse makes them) stays a key instead of replacing the prototype.
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
