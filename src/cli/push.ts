/**
 * `mb push <builder> docker://host/repo:tag [--tag T ...] [--insecure]`: builds the builder if needed (the build path
 * of `mb build`, without an out-link), then pushes the OCI layout of its result with src/registry/push.ts, mounting
 * blobs from the repositories of the same registry the store's record of blob locations names.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { Store } from "../engine/store.js";
import { BlobLocations, blobLocationsFile } from "../registry/blob-locations.js";
import { RegistryClient } from "../registry/client.js";
import { pushLayout, type PushEvent } from "../registry/push.js";
import { isTag, parseReference } from "../registry/reference.js";
import { buildBuilder } from "./build.js";
import { storeDirFrom } from "./context.js";
import type { Io } from "./io.js";
import { createProgress } from "./progress.js";

/** The flags `mb push` reads. */
export interface PushFlags {
  readonly json: boolean;
  readonly store?: string;
  readonly tag?: readonly string[];
  readonly insecure: boolean;
  readonly "keep-failed": boolean;
  readonly "no-sandbox": boolean;
  readonly jobs?: string;
}

function usage(message: string): MbError {
  return new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb push --help` for usage" });
}

function eventLine(e: PushEvent): string {
  switch (e.event) {
    case "push-blob":
      return `mb: blob ${e.digest} (${e.size} bytes): ${e.how === "exists" ? "already there" : e.how === "mounted" ? `mounted from ${e.from ?? "another repository"}` : e.how}`;
    case "push-manifest":
      return `mb: manifest ${e.digest}: ${e.how === "exists" ? "already there" : "put"}`;
    case "push-tag":
      return `mb: tagged ${e.reference}`;
  }
}

/** Runs `mb push`; prints the pushed image's digest reference and its tags (with --json, one event per line). */
export async function runPush(rest: readonly string[], flags: PushFlags, io: Io): Promise<number> {
  const [builder, destination, ...more] = rest;
  if (builder === undefined || destination === undefined) throw usage("push needs a builder and a destination: mb push <builder> docker://host[:port]/repository[:tag]");
  if (more.length > 0) throw usage(`unexpected argument '${more[0]}'`);
  const target = parseReference(destination);
  const extra = flags.tag ?? [];
  const badTag = extra.find((t) => !isTag(t));
  if (badTag !== undefined) throw usage(`--tag '${badTag}' is not a tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  const jobs = flags.jobs === undefined ? 1 : Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw usage(`-j needs a positive whole number, got '${flags.jobs}'`);
  const progress = createProgress(flags.json ? "json" : io.isTTY ? "tty" : "plain", io);
  let storePath: string;
  try {
    ({ storePath } = await buildBuilder(builder, { store: flags.store, outLink: null, keepFailed: flags["keep-failed"], sandbox: flags["no-sandbox"] ? "none" : "bwrap", check: false, jobs }, progress, io));
  } finally {
    progress.close();
  }
  const client = new RegistryClient(target.registry, { insecure: flags.insecure, warn: (m) => io.err(`mb: warning: ${m}\n`) });
  const report = (e: PushEvent): void => (flags.json ? io.out(`${JSON.stringify(e)}\n`) : io.err(`${eventLine(e)}\n`));
  const locations = new BlobLocations(blobLocationsFile(new Store(storeDirFrom(flags.store)).cacheDir));
  const result = await pushLayout(storePath, target, client, { tags: extra, onEvent: report, label: `the result of ${builder} (${storePath})`, locations });
  if (flags.json) io.out(`${JSON.stringify({ event: "pushed", storePath, ...result })}\n`);
  else {
    const { uploaded, mounted, existing } = result.blobs;
    io.err(`mb: blobs: ${uploaded} uploaded, ${mounted} mounted, ${existing} already there\n`);
    io.out([result.reference, ...result.tags].map((r) => `${r}\n`).join(""));
  }
  return ExitCode.ok;
}
