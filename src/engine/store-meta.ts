/**
 * The metadata record of a store entry, how it is read back (checked field by field: a record that is missing, torn
 * or of the wrong shape is no record), and the cheap check that vouches for an entry on every cache hit: the number
 * of regular files and their total size, as the record holds them, against a quick walk of the entry (no hashing).
 * The record is checked by hand, not by a zod schema, because a cache hit must not pay zod's import (about 80 ms).
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One tool as the metadata records it. */
export interface ToolIdentity {
  readonly name: string;
  readonly package: string;
  readonly origin: string;
  readonly version: string | null;
  readonly contentHash: string | null;
  readonly executables: Record<string, string>;
}

/** One step as the metadata records it. */
export interface StepRecord {
  readonly name: string;
  readonly durationMs: number;
}

/** The metadata record of a complete entry. */
export interface EntryMeta {
  /** 2: the output hash is tree-hash format 2 (per-file digests); 1: format 1. */
  readonly version: 1 | 2;
  readonly storePath: string;
  readonly kind: "build" | "import" | "artifact";
  readonly name: string;
  /** The hash part of the store path: the plan's fingerprint hash (builds), or the content-derived name (imports, artifacts). */
  readonly planHash: string;
  readonly fingerprint?: Record<string, unknown>;
  readonly tools?: ToolIdentity[];
  readonly steps?: StepRecord[];
  /** `sha256:<hashTree of the entry>`. */
  readonly outputHash: string;
  /** Store paths this entry needs alive: dependencies, imports, runtime artifacts. */
  readonly references: string[];
  readonly source?: string;
  readonly builtAt: string;
  readonly durationMs?: number;
  /** Builds: how long sealing the output took, of durationMs. */
  readonly sealMs?: number;
  /** The number of regular files in the entry (the cheap check). */
  readonly files?: number;
  /** The total size of those files in bytes (the cheap check). */
  readonly bytes?: number;
  /** The binary cache the entry was fetched from (`docker://host/repo`), when it was not built here. */
  readonly substitutedFrom?: string;
}

const KINDS = new Set(["build", "import", "artifact"]);

/** The record in `text` for entry `storePath`, or why it is not one. */
export function parseEntryMeta(text: string, storePath: string): EntryMeta | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `its metadata record does not parse (${(e as Error).message})`;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "its metadata record is not an object";
  const m = v as Record<string, unknown>;
  if (m.version !== 1 && m.version !== 2) return `its metadata record has version ${JSON.stringify(m.version)}, not 1 or 2`;
  if (m.storePath !== storePath) return `its metadata record is for ${JSON.stringify(m.storePath)}`;
  if (typeof m.kind !== "string" || !KINDS.has(m.kind)) return `its metadata record has kind ${JSON.stringify(m.kind)}`;
  for (const k of ["name", "planHash", "builtAt"] as const) if (typeof m[k] !== "string") return `its metadata record has no ${k}`;
  if (typeof m.outputHash !== "string" || !/^sha256:[0-9a-f]{64}$/.test(m.outputHash)) return "its metadata record has no valid outputHash";
  if (!Array.isArray(m.references) || !m.references.every((r) => typeof r === "string")) return "its metadata record has no valid references";
  for (const k of ["files", "bytes"] as const) {
    if (!Number.isSafeInteger(m[k]) || (m[k] as number) < 0) return `its metadata record has no valid ${k} count (the cheap check needs it)`;
  }
  return m as unknown as EntryMeta;
}

/** Reads and checks an entry's record: the record, or why there is none. */
export function readEntryMeta(metaPath: string, storePath: string): EntryMeta | string {
  let text: string;
  try {
    text = readFileSync(metaPath, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "it has no metadata record" : `its metadata record cannot be read (${(e as Error).message})`;
  }
  return parseEntryMeta(text, storePath);
}

/** Counts the regular files of a tree and their total size (a stat walk, nothing read). */
export function countTree(path: string): { files: number; bytes: number } {
  const out = { files: 0, bytes: 0 };
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isFile()) {
      out.files++;
      out.bytes += st.size;
    } else if (st.isDirectory()) {
      for (const name of readdirSync(p)) walk(join(p, name));
    }
  };
  walk(path);
  return out;
}

/** Why entry `p` fails the cheap check against its record, or null when it passes. */
export function cheapProblem(p: string, meta: EntryMeta): string | null {
  let seen;
  try {
    seen = countTree(p);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "the entry is missing" : `the entry cannot be walked (${(e as Error).message})`;
  }
  if (seen.files !== meta.files || seen.bytes !== meta.bytes) {
    return `it holds ${seen.files} files of ${seen.bytes} bytes, but its metadata records ${meta.files} files of ${meta.bytes} bytes`;
  }
  return null;
}
