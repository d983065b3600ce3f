/** Output promises: after the last step, each declared output must exist in its declared format. */
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { isUtf8 } from "node:buffer";
import { isAbsolute, join, normalize, relative } from "node:path";
import type { Output } from "../core/records.js";
import { readTarEntries } from "./tar.js";
import { hashFile } from "./tree-hash.js";

/** A broken promise: the output and what is wrong with it. */
export interface BrokenPromise {
  readonly output: Output;
  readonly path: string;
  readonly reason: string;
}

/**
 * Where an output lives inside `out`: `$out`, `$out/x` and `x` (relative to `$out`) are accepted; null for a path
 * that leaves `$out`.
 */
export function outputLocation(out: string, path: string): string | null {
  let rel: string;
  if (path === "$out" || path === "${out}") rel = "";
  else if (path.startsWith("$out/")) rel = path.slice(5);
  else if (path.startsWith("${out}/")) rel = path.slice(7);
  else if (isAbsolute(path)) return null;
  else rel = path;
  const n = normalize(rel === "" ? "." : rel).replace(/(.)\/+$/, "$1");
  if (n === ".." || n.startsWith("../")) return null;
  return n === "." ? out : join(out, n);
}

function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Why one output breaks its promise, or null when it keeps it. */
export function promiseProblem(path: string, format: string): string | null {
  let st;
  try {
    st = statSync(path);
  } catch {
    try {
      lstatSync(path);
      return "it is a dangling symlink";
    } catch {
      return "it does not exist";
    }
  }
  const needFile = (): string | null => (st.isFile() ? null : st.isDirectory() ? "it is a directory, not a file" : "it is not a regular file");
  switch (format) {
    case "json": {
      const p = needFile();
      if (p) return p;
      try {
        JSON.parse(readFileSync(path, "utf8"));
        return null;
      } catch (e) {
        return `it does not parse as JSON (${(e as Error).message})`;
      }
    }
    case "tar": {
      const p = needFile();
      if (p) return p;
      try {
        readTarEntries(path);
        return null;
      } catch (e) {
        return `it does not read as a tar archive: ${(e as Error).message}`;
      }
    }
    case "tree":
    case "directory":
    case "oci-blobs": // its digests are checked when the output is sealed (checkBlobPromises)
      return st.isDirectory() ? null : "it is not a directory";
    case "elf": {
      const p = needFile();
      if (p) return p;
      const head = readHead(path, 4);
      return head.length === 4 && head[0] === 0x7f && head.toString("latin1", 1, 4) === "ELF" ? null : "it is not an ELF file (no \\x7fELF magic)";
    }
    case "text": {
      const p = needFile();
      if (p) return p;
      return isUtf8(readFileSync(path)) ? null : "it is not valid UTF-8 text";
    }
    default:
      // "path" and formats the engine has no reader for: the promise is that the output exists.
      return null;
  }
}

/** Checks every declared output of a build whose result is at `out`. */
export function checkOutputs(out: string, outputs: readonly Output[]): BrokenPromise[] {
  const broken: BrokenPromise[] = [];
  for (const o of outputs) {
    const loc = outputLocation(out, o.path);
    if (loc === null) {
      broken.push({ output: o, path: o.path, reason: "its path is outside $out" });
      continue;
    }
    const reason = promiseProblem(loc, o.format);
    if (reason) broken.push({ output: o, path: loc, reason });
  }
  return broken;
}

const DIGEST_LENGTH = new Map([
  ["sha256", 64],
  ["sha512", 128],
]);


/**
 * Why an `oci-blobs` output (an OCI layout's blobs directory: `<algorithm>/<encoded digest>` files) breaks its
 * promise, or null: every blob must be a regular file named by the digest of its bytes. sha256 digests come from
 * `digests` (what sealing took, by path relative to the output root); sha512 blobs are hashed here.
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

/** The promises checked from the digests of a sealed output (`oci-blobs`), after `checkOutputs` passed. */
export function checkBlobPromises(out: string, outputs: readonly Output[], digests: ReadonlyMap<string, string>, rewritten: readonly string[] = []): BrokenPromise[] {
  const broken: BrokenPromise[] = [];
  for (const o of outputs) {
    if (o.format !== "oci-blobs") continue;
    const loc = outputLocation(out, o.path);
    if (loc === null) continue; // reported by checkOutputs
    const reason = blobsProblem(loc, relative(out, loc), digests, rewritten);
    if (reason) broken.push({ output: o, path: loc, reason });
  }
  return broken;
}
