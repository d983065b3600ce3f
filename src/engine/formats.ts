/**
 * The output formats the engine checks, as one table over every format of the closed set (core/records.ts): what
 * each promises of the output the steps left. A format outside the set never gets here: the spec schema rejects it.
 */
import { closeSync, lstatSync, openSync, readFileSync, readSync, statSync, type Stats } from "node:fs";
import { isUtf8 } from "node:buffer";
import type { OutputFormat } from "../core/records.js";
import { ociBlobs } from "../oci/engine/blobs.js";
import { notADirectory, notAFile, type FormatPromise } from "./format-promise.js";
import { readTarEntries } from "./tar.js";

/** The first `n` bytes of a file (fewer when it is shorter). */
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

/** A promise about a regular file: it must be one, and then `check` must pass. */
function fileFormat(check: (path: string) => string | null): FormatPromise {
  return { check: (path: string, st: Stats) => notAFile(st) ?? check(path) };
}

/** A promise that the file starts with `magic`, or else `problem`. */
function magic(bytes: Buffer, problem: string): FormatPromise {
  return fileFormat((path) => (readHead(path, bytes.length).equals(bytes) ? null : problem));
}

const directory: FormatPromise = { check: (_path, st) => notADirectory(st) };

/** Every output format's promise. */
export const formats = {
  // The promise is that the output exists.
  path: { check: () => null },
  tree: directory,
  directory,
  json: fileFormat((path) => {
    try {
      JSON.parse(readFileSync(path, "utf8"));
      return null;
    } catch (e) {
      return `it does not parse as JSON (${(e as Error).message})`;
    }
  }),
  tar: fileFormat((path) => {
    try {
      readTarEntries(path);
      return null;
    } catch (e) {
      return `it does not read as a tar archive: ${(e as Error).message}`;
    }
  }),
  text: fileFormat((path) => (isUtf8(readFileSync(path)) ? null : "it is not valid UTF-8 text")),
  elf: magic(Buffer.from("\x7fELF", "latin1"), "it is not an ELF file (no \\x7fELF magic)"),
  archive: magic(Buffer.from("!<arch>\n", "latin1"), "it is not an ar archive (no !<arch> magic)"),
  "oci-blobs": ociBlobs,
} satisfies { readonly [F in OutputFormat]: FormatPromise };

/** The promise of one output format. */
export function formatPromise(format: OutputFormat): FormatPromise {
  return formats[format];
}

/** Why the output at `path` breaks the promise of `format`, or null when it keeps it. */
export function promiseProblem(path: string, format: OutputFormat): string | null {
  let st: Stats;
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
  return formatPromise(format).check(path, st);
}
