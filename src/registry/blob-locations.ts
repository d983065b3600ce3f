/**
 * Where blobs are known to live, one record per store (`<store>/.cache/blob-locations.json`): registry host -> digest
 * -> the repositories last seen holding it (at most MAX_REPOSITORIES, most recent first). `mb push` asks the registry
 * to mount a blob from one of them (a cross-repository mount, as `docker push` does) instead of uploading it; pulls of
 * registry bases and pushes record where blobs are. It is a hint, never trusted: a missing or unreadable file is an
 * empty record (rewritten at the next save), a stale entry costs one refused mount and is dropped, a store that cannot
 * be written keeps nothing. A save re-reads the file and replays this process's changes on it, so concurrent `mb`
 * processes lose nothing but what they race on; the file is replaced atomically, never left half written.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../engine/store-fs.js";
import { canonicalRegistry } from "./reference.js";

/** The record's file name in a store's `.cache/` directory. */
export const BLOB_LOCATIONS_FILE = "blob-locations.json";
/** How many repositories are kept per blob. */
export const MAX_REPOSITORIES = 3;
/** How many blobs are kept per registry host (the least recently seen go first). */
export const MAX_DIGESTS = 20_000;

const Record_ = z
  .object({
    version: z.literal(1).describe("the record's format version"),
    registries: z.record(z.string(), z.record(z.string(), z.array(z.string()))).describe("registry host -> digest -> repositories, most recent first"),
  })
  .strict()
  .describe("where blobs are known to live");

type Table = Map<string, Map<string, string[]>>;
type Change = { readonly op: "record" | "forget"; readonly host: string; readonly digest: string; readonly repository: string };

/** The record file of the store whose `.cache/` directory is `cacheDir`. */
export function blobLocationsFile(cacheDir: string): string {
  return join(cacheDir, BLOB_LOCATIONS_FILE);
}

function readTable(file: string | null): Table {
  const table: Table = new Map();
  if (file === null) return table;
  let parsed: z.infer<typeof Record_>;
  try {
    const r = Record_.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!r.success) return table; // not the record's shape: ignored, rewritten at the next save
    parsed = r.data;
  } catch {
    return table; // missing or not JSON: the same
  }
  for (const [host, digests] of Object.entries(parsed.registries)) {
    table.set(host, new Map(Object.entries(digests).map(([d, repos]) => [d, repos.slice(0, MAX_REPOSITORIES)])));
  }
  return table;
}

function apply(table: Table, c: Change): void {
  let digests = table.get(c.host);
  if (digests === undefined) table.set(c.host, (digests = new Map()));
  const before = digests.get(c.digest) ?? [];
  const rest = before.filter((r) => r !== c.repository);
  if (c.op === "forget") {
    if (rest.length > 0) digests.set(c.digest, rest);
    else digests.delete(c.digest);
    if (digests.size === 0) table.delete(c.host);
    return;
  }
  // A map keeps insertion order: deleting first moves the blob to the end, the most recently seen.
  digests.delete(c.digest);
  digests.set(c.digest, [c.repository, ...rest].slice(0, MAX_REPOSITORIES));
  for (const oldest of digests.keys()) {
    if (digests.size <= MAX_DIGESTS) break;
    digests.delete(oldest);
  }
}

/** A store's record of blob locations (see the file header); `file` null keeps it in memory only. */
export class BlobLocations {
  private table: Table;
  private changes: Change[] = [];

  constructor(readonly file: string | null) {
    this.table = readTable(file);
  }

  /** The repositories of `registry` known to hold `digest`, most recent first. */
  repositories(registry: string, digest: string): readonly string[] {
    return this.table.get(canonicalRegistry(registry))?.get(digest) ?? [];
  }

  /** Notes that `repository` of `registry` holds `digest` (now its most recent place). */
  record(registry: string, digest: string, repository: string): void {
    this.change({ op: "record", host: canonicalRegistry(registry), digest, repository });
  }

  /** Drops `repository` from the places of `digest` (a refused mount: it no longer holds it). */
  forget(registry: string, digest: string, repository: string): void {
    this.change({ op: "forget", host: canonicalRegistry(registry), digest, repository });
  }

  private change(c: Change): void {
    apply(this.table, c);
    this.changes.push(c);
  }

  /**
   * Writes this process's changes: the file is read again and they are replayed on it, then it is replaced
   * atomically. Best effort: a store that cannot be written (read-only, full) keeps the file as it was.
   */
  save(): void {
    if (this.file === null || this.changes.length === 0) return;
    const table = readTable(this.file);
    for (const c of this.changes) apply(table, c);
    const registries: Record<string, Record<string, string[]>> = {};
    for (const [host, digests] of [...table].sort(([a], [b]) => a.localeCompare(b))) registries[host] = Object.fromEntries(digests);
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, `${JSON.stringify({ version: 1, registries })}\n`);
    } catch {
      return; // a hint only: nothing is lost but future mounts
    }
    this.table = table;
    this.changes = [];
  }
}
