/**
 * The dependencies ornament: a typed resolution strategy (`dependencyShape`: Uniform, Partitioned or MultiTyped) over
 * the base spec, the dispatcher `matchShape`, and the resolver `resolveUniform`: the transitive closure of packages
 * through each one's `<langName>Deps`, ordered so that dependencies precede dependents; a cycle is an error naming it.
 * `markResolved`/`isResolved`/`unwrapDeps` tag an already resolved list. It adds no operations (the original's
 * DependenciesBuilder).
 */
import { z } from "zod";
import { ExitCode, MbError } from "../../core/errors.js";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import { baseListArgs, withBaseLists } from "../project-builder/index.js";

/** One dependency type of a multi-typed model, with whether it is followed transitively and toposorted. */
export const DependencyType = strictObject({
  _con: z.literal("MetaBuilderDependencyType").default("MetaBuilderDependencyType"),
  name: z.string().min(1),
  transitive: z.boolean().default(true),
  toposort: z.boolean().default(true),
});
export type DependencyType = z.output<typeof DependencyType>;

/** The resolution strategy, by constructor: one type, a custom-vs-bundled split by a path field, or N types. */
export const DependencyShape = z.discriminatedUnion("_con", [
  strictObject({ _con: z.literal("Uniform"), langName: z.string().min(1) }),
  strictObject({ _con: z.literal("Partitioned"), langName: z.string().min(1), pathField: z.string().min(1) }),
  strictObject({ _con: z.literal("MultiTyped"), types: z.array(DependencyType) }),
]);
export type DependencyShape = z.output<typeof DependencyShape>;

/** DependenciesBuilder: the base spec plus its dependency shape. */
export const DependenciesBuilder = defineOrnament({ name: "MetaBuilderDependencies", fields: { dependencyShape: DependencyShape } });
export type DependenciesSpec = z.output<typeof DependenciesBuilder.schema>;

const shape = (v: unknown, what: string): DependencyShape => parseOrThrow(DependencyShape, v, what, "constructor.invalid");
/** A Uniform shape. */
export const uniform = (a: { langName: string }) => shape({ _con: "Uniform", ...a }, "uniform");
/** A Partitioned shape. */
export const partitioned = (a: { langName: string; pathField: string }) => shape({ _con: "Partitioned", ...a }, "partitioned");
/** A dependency type (transitive and toposort default to true). */
export const typeOf = (a: { name: string; transitive?: boolean; toposort?: boolean }) =>
  parseOrThrow(DependencyType, { ...a, _con: "MetaBuilderDependencyType" }, "typeOf", "constructor.invalid");
/** A MultiTyped shape. */
export const multiTyped = (a: { types: readonly { name: string; transitive?: boolean; toposort?: boolean }[] }) =>
  shape({ _con: "MultiTyped", types: a.types.map(typeOf) }, "multiTyped");

/** The typed dispatcher over the three shapes. */
export function matchShape<T>(
  cases: { uniform: (a: { langName: string }) => T; partitioned: (a: { langName: string; pathField: string }) => T; multiTyped: (a: { types: DependencyType[] }) => T },
  s: DependencyShape,
): T {
  switch (s._con) {
    case "Uniform":
      return cases.uniform({ langName: s.langName });
    case "Partitioned":
      return cases.partitioned({ langName: s.langName, pathField: s.pathField });
    case "MultiTyped":
      return cases.multiTyped({ types: s.types });
    default:
      throw new MbError("dependencies.shape", `matchShape: not a DependencyShape value (got _con = ${String((s as { _con?: unknown })._con)})`, { exitCode: ExitCode.usage });
  }
}

/** Arguments of `define`. */
export const DependenciesArgs = strictObject({ dependencyShape: DependencyShape, name: storeNamed().optional(), ...baseListArgs });

/** A DependenciesBuilder spec (`name` defaults to `dependenciesBuilder`). */
export function define(args: z.input<typeof DependenciesArgs>): DependenciesSpec {
  const a = parseOrThrow(DependenciesArgs, args, "dependencies.define", "constructor.invalid");
  return markOrnamented(parseOrThrow(DependenciesBuilder.schema, withBaseLists(a, { name: a.name ?? "dependenciesBuilder" }), "dependencies.define", "constructor.invalid"), DependenciesBuilder.inserted);
}

/** A package as the resolver sees it: its identity (`name`) and, under `<langName>Deps`, its direct dependencies. */
export type ResolvablePackage = { readonly name: string } & Readonly<Record<string, unknown>>;

/**
 * The transitive closure of `deps` through each package's `<langName>Deps` (breadth-first, unique by name), ordered so
 * that every package comes after its dependencies (and otherwise in closure order). A cycle is an error (exit 2)
 * naming it (`a -> b -> a`), with the path of the package where it was found.
 */
export function resolveUniform(args: { langName: string; deps: readonly ResolvablePackage[] }): ResolvablePackage[] {
  const field = `${args.langName}Deps`;
  const depsOf = (p: ResolvablePackage): ResolvablePackage[] => {
    const d = p[field];
    return Array.isArray(d) ? (d as ResolvablePackage[]) : [];
  };
  const closure = new Map<string, ResolvablePackage>();
  const queue = [...args.deps];
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (typeof p?.name !== "string") throw new MbError("dependencies.identity", "resolveUniform: a package has no identity (name)", { exitCode: ExitCode.usage });
    if (closure.has(p.name)) continue;
    closure.set(p.name, p);
    queue.push(...depsOf(p));
  }
  const sorted: ResolvablePackage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (p: ResolvablePackage): void => {
    const s = state.get(p.name);
    if (s === "done") return;
    if (s === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(p.name)), p.name];
      throw new MbError("dependencies.cycle", `resolveUniform: circular dependency in '${args.langName}': ${cycle.join(" -> ")}`, {
        exitCode: ExitCode.usage,
        issues: [{ path: ["deps", ...cycle.slice(0, -1).flatMap((n) => [n, field])], message: `circular dependency: ${cycle.join(" -> ")}` }],
      });
    }
    state.set(p.name, "visiting");
    stack.push(p.name);
    for (const d of depsOf(p)) visit(closure.get(d.name) ?? d);
    stack.pop();
    state.set(p.name, "done");
    sorted.push(p);
  };
  for (const p of closure.values()) visit(p);
  return sorted;
}

/** A resolved list, tagged so that downstream builders skip resolving it again. */
export interface ResolvedDeps<T> {
  readonly __resolvedDeps: true;
  readonly deps: readonly T[];
}
/** Tags an already resolved (flat, toposorted) list. */
export const markResolved = <T>(deps: readonly T[]): ResolvedDeps<T> => ({ __resolvedDeps: true, deps });
/** True for a tagged list. */
export const isResolved = (x: unknown): x is ResolvedDeps<unknown> => typeof x === "object" && x !== null && (x as { __resolvedDeps?: unknown }).__resolvedDeps === true;
/** The list of a tagged value; anything else as it is. */
export const unwrapDeps = <T>(x: ResolvedDeps<T> | T): readonly T[] | T => (isResolved(x) ? (x as ResolvedDeps<T>).deps : x);

/** The dependencies ornament as the registry loads it. */
export const dependenciesOrnament: LoadedOrnament<typeof DependenciesBuilder.schema> = {
  ornament: DependenciesBuilder,
  example: () => define({ dependencyShape: uniform({ langName: "alpha" }) }),
};
