/**
 * The one list of built-in ornaments: adding one is its module plus one line here. The CLI (its help, `mb schema`),
 * the package root and the law tests read this list. Entries load their ornament lazily, so that reading the names
 * (the CLI's help) loads neither zod nor the ornament.
 */
import type { z } from "zod";
import type { Ornament } from "./ornament.js";

/** An ornament as its module hands it to the registry: the ornament, and a spec of it as its constructor builds one. */
export interface LoadedOrnament<S extends z.ZodType = z.ZodType> {
  readonly ornament: Ornament<S>;
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
  ornamentEntry("transform", "a sequential pipeline of tool runs (its typed steps kept as `steps`)", async () => (await import("./transform/index.js")).transformOrnament),
  ornamentEntry("repl", "a spec carrying a REPL server (`replServer`: swank, nrepl, dap or a protocol record)", async () => (await import("./repl/index.js")).replOrnament),
];

/** The registry entry named `name`, or undefined. */
export function findOrnament(name: string): OrnamentEntry | undefined {
  return ORNAMENTS.find((e) => e.name === name);
}
