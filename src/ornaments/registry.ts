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

/** A registry entry: the name the CLI accepts, one line saying what the ornament builds, and its loader. */
export interface OrnamentEntry {
  readonly name: string;
  readonly description: string;
  load(): Promise<LoadedOrnament>;
}

/** Makes a registry entry from the loader of any ornament, whatever its schema. */
export function ornamentEntry<S extends z.ZodType>(name: string, description: string, load: () => Promise<LoadedOrnament<S>>): OrnamentEntry {
  return { name, description, load };
}

/** Every built-in ornament, by the name the CLI accepts. */
export const ORNAMENTS: readonly OrnamentEntry[] = [
  ornamentEntry("oci-image", "an OCI image layout and its archive", async () => (await import("../oci/ornament.js")).ociImageOrnament),
  ornamentEntry("oci-index", "a multi-platform OCI image index over per-platform oci-image builds", async () => (await import("../oci/index-ornament.js")).ociIndexOrnament),
  ornamentEntry("transform", "a sequential pipeline of tool runs (its typed steps kept as `steps`)", async () => (await import("./transform/index.js")).transformOrnament),
  ornamentEntry("repl", "a spec carrying a REPL server (`replServer`: swank, nrepl, dap or a protocol record)", async () => (await import("./repl/index.js")).replOrnament),
  // codegen: the build-side ornaments (issue 11).
  ornamentEntry("code-gen", "multi-language code generation: one generator, an output tree per language", async () => (await import("./code-gen/index.js")).codeGenOrnament),
  ornamentEntry("idl", "protobuf code generation with protoc (over code-gen)", async () => (await import("./idl/index.js")).idlOrnament),
  ornamentEntry("project-builder", "a language project: langName over the base spec", async () => (await import("./project-builder/index.js")).projectBuilderOrnament),
  ornamentEntry("implementations", "a language's implementations and its default one (over project-builder)", async () => (await import("./implementations/index.js")).implementationsOrnament),
  ornamentEntry("vendoring", "a vendoring contract for a language's packages (over project-builder)", async () => (await import("./vendoring/index.js")).vendoringOrnament),
  ornamentEntry("testing", "a typed test suite of a language (over project-builder)", async () => (await import("./testing/index.js")).testingOrnament),
  ornamentEntry("dependencies", "a dependency-resolution strategy, transitive closure and topological order", async () => (await import("./dependencies/index.js")).dependenciesOrnament),
];

/**
 * The ornament a spec carrying the non-base keys `extra` is of: the one whose inserted fields cover most of them (the
 * first in the list on a tie), so that oci-index's `annotations` does not make an index an oci-image; null for none.
 */
export async function ornamentOfKeys(extra: readonly string[]): Promise<{ entry: OrnamentEntry; loaded: LoadedOrnament } | null> {
  let best: { entry: OrnamentEntry; loaded: LoadedOrnament; covered: number } | null = null;
  for (const entry of extra.length > 0 ? ORNAMENTS : []) {
    const loaded = await entry.load();
    const covered = extra.filter((k) => loaded.ornament.inserted.includes(k)).length;
    if (covered > 0 && (best === null || covered > best.covered)) best = { entry, loaded, covered };
  }
  return best;
}

/** The registry entry named `name`, or undefined. */
export function findOrnament(name: string): OrnamentEntry | undefined {
  return ORNAMENTS.find((e) => e.name === name);
}
