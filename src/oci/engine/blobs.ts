/**
 * The `oci-blobs` output format: an OCI layout's blobs directory (`<algorithm>/<encoded digest>` files), whose every
 * blob must be a regular file named by the digest of its bytes. Checked once the output is sealed, from the sha256
 * digests sealing took (so it asks sealing for plain digests below it); sha512 blobs are hashed here.
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { notADirectory, type FormatPromise } from "../../engine/format-promise.js";
import { hashFile } from "../../engine/tree-hash.js";

const DIGEST_LENGTH = new Map([
  ["sha256", 64],
  ["sha512", 128],
]);

/**
 * Why an `oci-blobs` output breaks its promise, or null: every blob must be a regular file named by the digest of its
 * bytes. sha256 digests come from `digests` (what sealing took, by path relative to the output root).
 */
export function blobsProblem(dir: string, rel: string, digests: ReadonlyMap<string, string>, rewritten: readonly string[] = []): string | null {
  for (const alg of readdirSync(dir).sort()) {
    const algDir = join(dir, alg);
    const length = DIGEST_LENGTH.get(alg);
    if (length === undefined) return `'${alg}' is not a digest algorithm (sha256, sha512)`;
    if (!lstatSync(algDir).isDirectory()) return `'${alg}' is not a directory`;
    for (const name of readdirSync(algDir).sort()) {
      const path = join(algDir, name);
      const where = `blob ${alg}:${name}`;
      if (!new RegExp(`^[0-9a-f]{${length}}$`).test(name)) return `${where} is not named by a ${alg} digest`;
      if (!lstatSync(path).isFile()) return `${where} is not a regular file`;
      const key = rel === "" ? join(alg, name) : join(rel, alg, name);
      const actual = alg === "sha256" ? digests.get(key) : hashFile(path, alg);
      if (actual !== name) {
        const why = rewritten.includes(key) ? " (it held the temporary output path, which mb rewrote to the final store path)" : "";
        return `${where} has digest ${alg}:${actual ?? "(unknown)"}: its bytes do not match its name${why}`;
      }
    }
  }
  return null;
}

/** The `oci-blobs` promise: a directory when the steps end, and blobs named by their digests once sealed. */
export const ociBlobs: FormatPromise = {
  check: (_path, st) => notADirectory(st),
  sealed: blobsProblem,
  needsPlainDigests: true,
};
