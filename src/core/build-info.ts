/**
 * The build-info record: what the engine knows of a build and of every build it needs (resolved tools with their
 * Debian identities, imported inputs, each step's shell, the store paths and content hashes of dependencies). The
 * engine writes it as `$MB_BUILD_INFO` for builds whose steps name that variable (src/engine/build-info.ts); every fact
 * in it is covered by the build's fingerprint, or is the content hash of an entry the build reads anyway.
 */
import { z } from "zod";
import { strictObject } from "./strict.js";

export { BUILD_INFO_VAR } from "./build-info-var.js";

/** A tool as it was resolved: its package, where it came from, and its identity. */
export const BuildInfoTool = strictObject({
  name: z.string().describe("The tool's name in the spec (`bash`, `busybox`, ...)."),
  package: z.string().describe("The package it comes from: a Debian package name for host tools."),
  origin: z.string().describe("`host` (a Debian package or an executable on PATH), `store`, `path`, `builder`, or `unresolved`."),
  version: z.string().nullable().describe("The Debian package version, when the package is one."),
  arch: z.string().nullable().describe("The Debian package architecture (`amd64`, `arm64`, `all`), when the package is one."),
  outPath: z.string().nullable().describe("Where the package lies (`/usr` for host packages, a store path otherwise)."),
  contentHash: z.string().nullable().describe("sha256 over the package's executables (host), or its tree hash (imports)."),
});
export type BuildInfoTool = z.infer<typeof BuildInfoTool>;

/** One step of a build, as the engine runs it. */
export const BuildInfoStep = strictObject({
  name: z.string().describe("The step's name."),
  kind: z.string().describe("The plan step constructor: `runStep`, `writeStep` or `copyStep`."),
  shell: z.string().describe("The exact shell the step runs (as `mb plan` renders it)."),
});
export type BuildInfoStep = z.infer<typeof BuildInfoStep>;

/** A directory imported into the store by content (a path package or a local input). */
export const BuildInfoImport = strictObject({
  name: z.string().describe("The base name it is imported under."),
  storePath: z.string().describe("Its store path."),
  contentHash: z.string().describe("The tree hash of its content (hex sha256)."),
});
export type BuildInfoImport = z.infer<typeof BuildInfoImport>;

/** One build: its name, store path, tools, imports, steps, and (for a dependency, already built) its content hash. */
export const BuildInfoBuild = strictObject({
  name: z.string().describe("The build's name (its plan's name)."),
  storePath: z.string().describe("Its store path."),
  builder: z.string().describe("The builder that realizes the plan (`runCommand`)."),
  outputHash: z.string().nullable().describe("`sha256:<tree hash>` of the entry for a dependency already in the store; null for the build being run."),
  tools: z.array(BuildInfoTool).describe("The declared tools, resolved."),
  imports: z.array(BuildInfoImport).describe("Directories imported into the store for it."),
  needs: z.array(z.string()).describe("Store paths of the builds it needs."),
  steps: z.array(BuildInfoStep).describe("Its steps, in order."),
});
export type BuildInfoBuild = z.infer<typeof BuildInfoBuild>;

/** The record `$MB_BUILD_INFO` names. */
export const BuildInfo = strictObject({
  version: z.literal(1).describe("The record's format version."),
  system: z.string().describe("The build system, e.g. `x86_64-linux`."),
  sourceDateEpoch: z.number().int().describe("SOURCE_DATE_EPOCH of the build."),
  storeDir: z.string().describe("The store directory."),
  sandbox: z.string().describe("How steps are confined: `bwrap` or `none`."),
  build: BuildInfoBuild.describe("The build being run."),
  closure: z.array(BuildInfoBuild).describe("Every build it needs, transitively, dependencies first."),
});
export type BuildInfo = z.infer<typeof BuildInfo>;
