/** The records of a build description (reference section 2) that hold no package reference: one zod schema each. */
import { z } from "zod";
import { OutputPath } from "./output-path.js";
import { strictObject } from "./strict.js";

// Names may be empty here: the validate view reports them as diagnostics, as the original does.
const nameField = z.string();
const payload = z.record(z.string(), z.unknown()).default({});

/** A package that the host provides: an executable on PATH or, on Debian, a dpkg package of that name. */
export const HostPackage = strictObject({
  _con: z.literal("hostPackage"),
  name: z.string().min(1),
});
export type HostPackage = z.infer<typeof HostPackage>;

/** A directory imported into the store by content hash. */
export const PathPackage = strictObject({
  _con: z.literal("pathPackage"),
  path: z.string().min(1),
  name: z.string().optional(),
});
export type PathPackage = z.infer<typeof PathPackage>;

/** A package after resolution: what the views see. `outPath` is its store path or host location. */
export const ResolvedPackage = strictObject({
  _con: z.literal("resolvedPackage"),
  name: z.string(),
  packageName: z.string(),
  origin: z.enum(["host", "path", "builder", "store"]),
  outPath: z.string(),
  version: z.string().nullable().default(null),
  /** Executable name -> absolute path, for host packages (the build PATH's symlink farm). */
  executables: z.record(z.string(), z.string()).default({}),
  /** Content identity: sha256 over what the package provides, or the store path's hash. */
  contentHash: z.string().nullable().default(null),
});
export type ResolvedPackage = z.infer<typeof ResolvedPackage>;

/** A named parameter of a builder. */
export const Parameter = strictObject({
  _con: z.literal("MetaBuilderParameter").default("MetaBuilderParameter"),
  name: nameField,
  value: z.unknown(),
});
export type Parameter = z.infer<typeof Parameter>;

/** A source read from a local path. */
export const LocalSource = strictObject({
  _con: z.literal("localSource"),
  name: nameField,
  path: z.string(),
});
export type LocalSource = z.infer<typeof LocalSource>;

/** A source produced by another producer. */
export const GeneratedSource = strictObject({
  _con: z.literal("generatedSource"),
  name: nameField,
  producer: z.string(),
});
export type GeneratedSource = z.infer<typeof GeneratedSource>;

/** Either kind of source. */
export const Source = z.discriminatedUnion("_con", [LocalSource, GeneratedSource]);
export type Source = z.infer<typeof Source>;

/**
 * The closed set of output formats, each a promise the engine checks when a build ends: `path` (it exists), `tree` and
 * `directory` (a directory), `json`, `tar`, `text` (UTF-8), `elf`, `archive` (an `ar` archive) and `oci-blobs` (an OCI
 * blobs directory, every blob named by the digest of its bytes; its check comes from the OCI module).
 */
export const OUTPUT_FORMATS = ["path", "tree", "directory", "json", "tar", "text", "elf", "archive", "oci-blobs"] as const;
/** One output format. */
export const OutputFormat = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof OutputFormat>;

/** A declared output: a promise the build keeps. */
export const Output = strictObject({
  _con: z.literal("MetaBuilderOutput").default("MetaBuilderOutput"),
  name: nameField,
  path: OutputPath,
  format: OutputFormat.default("path"),
});
export type Output = z.infer<typeof Output>;

/**
 * What an evidence entry holds: a `command` that `mb check` runs against the result (stdout compared with
 * `expectedOutput` when given), or data only (`text`, `description`, `data`). Strict, so a misspelt `comand` is an
 * error rather than an entry `mb check` skips.
 */
export const EvidencePayload = strictObject({
  command: z.string().optional(),
  expectedOutput: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  text: z.string().optional(),
  data: z.unknown().optional(),
});
export type EvidencePayload = z.infer<typeof EvidencePayload>;

/** Evidence about the artifact; a `command` payload can be executed by `mb check`. */
export const Evidence = strictObject({
  _con: z.literal("MetaBuilderEvidence").default("MetaBuilderEvidence"),
  name: nameField,
  payload: EvidencePayload.default({}),
});
export type Evidence = z.infer<typeof Evidence>;

/** A named value to validate. */
export const Validation = strictObject({
  _con: z.literal("MetaBuilderValidation").default("MetaBuilderValidation"),
  name: nameField,
  value: z.unknown(),
});
export type Validation = z.infer<typeof Validation>;

/** A descriptor emitted alongside the artifact. */
export const Descriptor = strictObject({
  _con: z.literal("MetaBuilderDescriptor").default("MetaBuilderDescriptor"),
  name: nameField,
  payload,
});
export type Descriptor = z.infer<typeof Descriptor>;
