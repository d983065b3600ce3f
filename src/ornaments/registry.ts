/**
 * The one list of built-in ornaments: adding one is its module plus one line here. The CLI (its help, `mb schema`),
 * the package root and the law tests read this list. Entries load their ornament lazily, so that reading the names
 * (the CLI's help) loads neither zod nor the ornament.
 */
import type { z } from "zod";
import type { Ornament } from "./ornament.js";

/** An ornament as its module hands it to the registry: the ornament, and a spec of it as its constructor builds one. */
export interface LoadedOrnament<S extends z.ZodType = z.ZodType> {
  readonly ornament: Ornament<S, unknown>;
  /** A sample spec of this ornament (for the law tests and documentation). */
  example(): z.output<S>;
}

/**
 * A registry entry: the name the CLI accepts, one line saying what the ornament builds, the fields it inserts (as its
 * `inserted`: a law test holds the two equal), so that finding a spec's ornament loads that ornament alone, and its loader.
 */
export interface OrnamentEntry {
  readonly name: string;
  readonly description: string;
  readonly inserted: readonly string[];
  load(): Promise<LoadedOrnament>;
}

/** Makes a registry entry from the loader of any ornament, whatever its schema. */
export function ornamentEntry<S extends z.ZodType>(name: string, description: string, inserted: readonly string[], load: () => Promise<LoadedOrnament<S>>): OrnamentEntry {
  return { name, description, inserted, load };
}

const OCI_IMAGE_FIELDS = ["layers", "entrypoint", "cmd", "env", "exposedPorts", "labels", "architecture", "os", "variant", "created", "workingDir", "user", "volumes", "stopSignal", "annotations", "tags", "attest", "base"];

/** Every built-in ornament, by the name the CLI accepts. */
export const ORNAMENTS: readonly OrnamentEntry[] = [
  ornamentEntry("oci-image", "an OCI image layout and its archive", OCI_IMAGE_FIELDS, async () => (await import("../oci/ornament.js")).ociImageOrnament),
  ornamentEntry("oci-index", "a multi-platform OCI image index over per-platform oci-image builds", ["images", "annotations", "tags"], async () => (await import("../oci/index-ornament.js")).ociIndexOrnament),
  ornamentEntry("transform", "a sequential pipeline of tool runs (its typed steps kept as `steps`)", ["steps"], async () => (await import("./transform/index.js")).transformOrnament),
  ornamentEntry("repl", "a spec carrying a REPL server (`replServer`: swank, nrepl, dap or a protocol record)", ["replServer"], async () => (await import("./repl/index.js")).replOrnament),
  // codegen: the build-side ornaments (issue 11).
  ornamentEntry("code-gen", "multi-language code generation: one generator, an output tree per language", ["generator", "languages"], async () => (await import("./code-gen/index.js")).codeGenOrnament),
  ornamentEntry("idl", "protobuf code generation with protoc (over code-gen)", ["generator", "languages", "idlFormat", "idlSource"], async () => (await import("./idl/index.js")).idlOrnament),
  ornamentEntry("project-builder", "a language project: langName over the base spec", ["langName"], async () => (await import("./project-builder/index.js")).projectBuilderOrnament),
  ornamentEntry("implementations", "a language's implementations and its default one (over project-builder)", ["langName", "implementations", "defaultImpl", "allowUserExtensions"], async () => (await import("./implementations/index.js")).implementationsOrnament),
  ornamentEntry("vendoring", "a vendoring contract for a language's packages (over project-builder)", ["langName", "contract"], async () => (await import("./vendoring/index.js")).vendoringOrnament),
  ornamentEntry("testing", "a typed test suite of a language (over project-builder)", ["langName", "testSuite"], async () => (await import("./testing/index.js")).testingOrnament),
  ornamentEntry("dependencies", "a dependency-resolution strategy, transitive closure and topological order", ["dependencyShape"], async () => (await import("./dependencies/index.js")).dependenciesOrnament),
];

/**
 * The ornament a spec carrying the non-base keys `extra` is of: the one whose inserted fields cover most of them (the
 * first in the list on a tie), so that oci-index's `annotations` does not make an index an oci-image; null for none.
 */
export async function ornamentOfKeys(extra: readonly string[]): Promise<{ entry: OrnamentEntry; loaded: LoadedOrnament } | null> {
  let best: { entry: OrnamentEntry; covered: number } | null = null;
  for (const entry of extra.length > 0 ? ORNAMENTS : []) {
    const covered = extra.filter((k) => entry.inserted.includes(k)).length;
    if (covered > 0 && (best === null || covered > best.covered)) best = { entry, covered };
  }
  return best && { entry: best.entry, loaded: await best.entry.load() };
}

/** The registry entry named `name`, or undefined. */
export function findOrnament(name: string): OrnamentEntry | undefined {
  return ORNAMENTS.find((e) => e.name === name);
}
