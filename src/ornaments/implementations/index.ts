/**
 * The implementations ornament, over project-builder: the implementations of a language (`impl`), the default one and
 * whether users may add more (`define`), with the original's eliminators `select`, `available`, `perImpl`, `extend`
 * and `filterByName`. It adds no operations (the original's ImplementationsBuilder). The original's Nix-only helpers
 * over derivations (`defineSystem`, `makeBuilder`: makeOverridable, passthru) have no counterpart here.
 */
import { z } from "zod";
import { ExitCode, MbError } from "../../core/errors.js";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject, uniqueNames } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import { baseListArgs, ProjectBuilder, withBaseLists } from "../project-builder/index.js";

/** One implementation of a language: its name and capabilities. */
export const Implementation = strictObject({
  _con: z.literal("MetaBuilderImpl").default("MetaBuilderImpl"),
  name: z.string().min(1),
  capabilities: z.record(z.string(), z.unknown()).default({}),
});
export type Implementation = z.output<typeof Implementation>;

function checkDefault(spec: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const s = spec as { implementations: Implementation[]; defaultImpl: string };
  if (!s.implementations.some((i) => i.name === s.defaultImpl)) {
    ctx.addIssue({ code: "custom", path: ["defaultImpl"], message: `defaultImpl '${s.defaultImpl}' not among declared implementations [${s.implementations.map((i) => i.name).join(", ")}]` });
  }
}

/** ImplementationsBuilder: ProjectBuilder plus implementations, the default one and whether users may extend them. */
export const ImplementationsBuilder = defineOrnament({
  name: "MetaBuilderImplementations",
  base: ProjectBuilder,
  fields: {
    implementations: uniqueNames(Implementation, "implementation"),
    defaultImpl: z.string().describe("the implementation used unless another is selected; one of implementations"),
    allowUserExtensions: z.boolean().describe("whether `extend` may add implementations"),
  },
  refine: checkDefault,
});
export type ImplementationsSpec = z.output<typeof ImplementationsBuilder.schema>;

/** A validated implementation. */
export function impl(args: { name: string; capabilities?: Record<string, unknown> }): Implementation {
  return parseOrThrow(Implementation, { ...args, _con: "MetaBuilderImpl" }, "impl", "constructor.invalid");
}

const ImplInput = z.object({ name: z.string(), capabilities: z.record(z.string(), z.unknown()).optional() });
/** Arguments of `define`. */
export const ImplementationsArgs = strictObject({
  langName: z.string().min(1),
  implementations: z.array(ImplInput),
  defaultImpl: z.string(),
  allowUserExtensions: z.boolean().default(false),
  name: storeNamed().optional(),
  ...baseListArgs,
});

/** An ImplementationsBuilder spec (`name` defaults to `<langName>Builder`); a defaultImpl not declared is an error. */
export function define(args: z.input<typeof ImplementationsArgs>): ImplementationsSpec {
  const a = parseOrThrow(ImplementationsArgs, args, "implementations.define", "constructor.invalid");
  const spec = withBaseLists(a, { name: a.name ?? `${a.langName}Builder`, implementations: a.implementations.map((i) => ({ ...i, _con: "MetaBuilderImpl" })) });
  return markOrnamented(parseOrThrow(ImplementationsBuilder.schema, spec, "implementations.define", "constructor.invalid"), ImplementationsBuilder.inserted);
}

const fail = (code: string, message: string): never => {
  throw new MbError(code, message, { exitCode: ExitCode.usage });
};

/** The implementation named `name`; an unknown one is an error listing those available. */
export function select(spec: ImplementationsSpec, name: string): Implementation {
  return spec.implementations.find((i) => i.name === name) ?? fail("implementations.unknown", `implementations.select: unknown implementation '${name}'. Available: ${spec.implementations.map((i) => i.name).join(", ")}`);
}

/** The implementations not excluded (by name). */
export function available(spec: ImplementationsSpec, excluded: readonly string[]): Implementation[] {
  return spec.implementations.filter((i) => !excluded.includes(i.name));
}

/** `f` of every implementation, by name. */
export function perImpl<T>(spec: ImplementationsSpec, f: (i: Implementation) => T): Record<string, T> {
  return Object.fromEntries(spec.implementations.map((i) => [i.name, f(i)]));
}

/** The spec with more implementations (and maybe another default); refused unless it allows user extensions. */
export function extend(spec: ImplementationsSpec, more: { implementations?: readonly { name: string; capabilities?: Record<string, unknown> }[]; defaultImpl?: string }): ImplementationsSpec {
  if (!spec.allowUserExtensions) fail("implementations.extend", `implementations.extend: spec for langName '${spec.langName}' declared allowUserExtensions = false`);
  const merged = [...spec.implementations, ...(more.implementations ?? []).map(impl)];
  const defaultImpl = more.defaultImpl ?? spec.defaultImpl;
  if (!merged.some((i) => i.name === defaultImpl)) fail("implementations.extend", `implementations.extend: defaultImpl '${defaultImpl}' not in extended impl set`);
  return markOrnamented(ImplementationsBuilder.schema.parse({ ...spec, implementations: merged, defaultImpl }), ImplementationsBuilder.inserted);
}

/**
 * The sources of one implementation: plain values pass; a per-implementation selector (a plain object that is not a
 * package reference, `{<impl>: x, default?: y}`) gives its entry for the implementation, else its `default`, else nothing.
 */
export function filterByName(implementation: { name: string }, xs: readonly unknown[]): unknown[] {
  const isSelector = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x) && !("_con" in x);
  return xs.flatMap((x) => {
    if (!isSelector(x)) return [x];
    if (Object.hasOwn(x, implementation.name)) return [x[implementation.name]];
    return Object.hasOwn(x, "default") ? [x.default] : [];
  });
}

/** The implementations ornament as the registry loads it. */
export const implementationsOrnament: LoadedOrnament<typeof ImplementationsBuilder.schema> = {
  ornament: ImplementationsBuilder,
  example: () => define({ langName: "alpha", implementations: [{ name: "impl-a" }, { name: "impl-b" }], defaultImpl: "impl-a" }),
};
