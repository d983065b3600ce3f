/**
 * Ornaments: the base spec schema plus inserted fields, strict like every record (an unknown key is an error with a
 * "did you mean"); `forget` is derived from the schema below: it keeps that schema's keys and parses them. An ornament
 * stacked over another (`base:`) forgets one level at a time (idl -> code-gen -> base spec); `forgetAll` goes down to
 * the base spec at once, and equals `forget` composed down the stack.
 */
import { z } from "zod";
import { BuilderSpec } from "../core/spec.js";
import { jsonSchemaOf } from "../core/json-schema.js";
import { strictObject } from "../core/strict.js";
import { parseOrThrow } from "../core/validate-schema.js";
import { markOrnamented } from "../core/ornamented.js";
import { compileSpec, unsafeProgram, type Program } from "../program/program.js";

/** An ornament over the base spec (or over another ornament); `B` is the spec one level down (the base ornament's). */
export interface Ornament<S extends z.ZodType = z.ZodType, B = BuilderSpec> {
  /** The ornament's name, e.g. `MetaBuilderOciImage`. */
  readonly name: string;
  /** The ornamented spec schema: base fields kept, inserted fields added. */
  readonly schema: S;
  /** Names of the fields this ornament (and those below it) inserted. */
  readonly inserted: readonly string[];
  /** The ornament this one is stacked over, if any. */
  readonly base?: Ornament;
  /**
   * Projects an ornamented spec ONE level down: to the base ornament's spec (its schema's keys, marked as made by that
   * ornament so the base-spec entry points accept it), or to the base spec when there is no base ornament.
   * Operations are untouched.
   */
  forget(spec: z.output<S>): B;
  /** Projects an ornamented spec all the way down to the base spec (forget composed down the stack). */
  forgetAll(spec: z.output<S>): BuilderSpec;
  /** The derived JSON Schema of the ornamented spec. */
  jsonSchema(): Record<string, unknown>;
  /** A descriptor of the ornament's fields. */
  describe(): OrnamentDescriptor;
}

/** What an ornament keeps and inserts. */
export interface OrnamentDescriptor {
  readonly name: string;
  readonly base: string;
  readonly constructor: "MetaBuilderSpec";
  readonly kept: readonly string[];
  readonly inserted: readonly string[];
}

type BaseShape = typeof BuilderSpec.shape;

/** Keeps the keys of `schema` that `spec` has. */
function pick(schema: z.ZodObject<z.ZodRawShape>, spec: object): Record<string, unknown> {
  const keys = Object.keys(schema.shape);
  return Object.fromEntries(keys.flatMap((k) => (k in spec ? [[k, (spec as Record<string, unknown>)[k]]] : [])));
}

type SpecOf<B> = B extends Ornament<infer BS> ? z.output<BS> : BuilderSpec;

/** Defines an ornament that inserts `fields` into the base spec (or into `base`, to stack ornaments). */
export function defineOrnament<Fields extends z.ZodRawShape, B extends Ornament<z.ZodObject<BaseShape & z.ZodRawShape>, unknown> | undefined = undefined>(def: {
  name: string;
  fields: Fields;
  base?: B;
  /** Checks across fields (e.g. a generator that must name a declared tool), as zod refinements of the whole spec. */
  refine?: (spec: Record<string, unknown>, ctx: z.RefinementCtx) => void;
}): Ornament<z.ZodObject<BaseShape & (B extends Ornament<z.ZodObject<infer BS>, unknown> ? BS : object) & Fields>, SpecOf<B>> {
  const baseSchema = (def.base?.schema ?? BuilderSpec) as z.ZodObject<z.ZodRawShape>;
  const object = strictObject({ ...baseSchema.shape, ...def.fields }) as unknown as z.ZodObject<BaseShape & z.ZodRawShape>;
  // Refinements of every ornament below apply too: a spec of idl is a spec of code-gen.
  const checks = [...(((def.base as { checks?: unknown } | undefined)?.checks as ((s: Record<string, unknown>, c: z.RefinementCtx) => void)[] | undefined) ?? []), ...(def.refine ? [def.refine] : [])];
  const schema = (checks.length === 0 ? object : object.superRefine((s, ctx) => checks.forEach((c) => c(s as Record<string, unknown>, ctx)))) as typeof object;
  const inserted = [...(def.base?.inserted ?? []), ...Object.keys(def.fields)];
  const kept = Object.keys(BuilderSpec.shape);
  const toBase = (spec: object): BuilderSpec => BuilderSpec.parse(pick(BuilderSpec as unknown as z.ZodObject<z.ZodRawShape>, spec));
  const ornament = {
    name: def.name,
    schema,
    inserted,
    checks,
    ...(def.base ? { base: def.base } : {}),
    forget: (spec: object) => {
      if (!def.base) return toBase(spec);
      const below = def.base.schema.parse(pick(baseSchema, spec)) as object;
      return markOrnamented(below, def.base.inserted);
    },
    forgetAll: (spec: object) => toBase(spec),
    jsonSchema: () => jsonSchemaOf(schema),
    describe: () => ({ name: def.name, base: def.base?.name ?? "MetaBuilderSpec", constructor: "MetaBuilderSpec" as const, kept, inserted }),
  };
  return ornament as never;
}

/** The chain of ornaments from `ornament` down to the one over the base spec (the ornament first). */
export function ornamentStack(ornament: Ornament<z.ZodType, unknown>): Ornament<z.ZodType, unknown>[] {
  const out: Ornament<z.ZodType, unknown>[] = [];
  for (let o: Ornament<z.ZodType, unknown> | undefined = ornament; o; o = o.base as Ornament<z.ZodType, unknown> | undefined) out.push(o);
  return out;
}

/** Projects a spec of `ornament` all the way down to the base spec (the ornament's `forgetAll`). */
export function forgetAll<S extends z.ZodType>(ornament: Ornament<S, unknown>, spec: z.output<S>): BuilderSpec {
  return ornament.forgetAll(spec);
}

/** Validates a spec against an ornament's type, forgets the inserted fields, and compiles it. */
export function fromOrnamentedSpec<S extends z.ZodType>(ornament: Ornament<S, unknown>, spec: unknown): Program {
  const parsed = parseOrThrow(ornament.schema, spec, `${ornament.name} spec`);
  return unsafeProgram(compileSpec(ornament.forgetAll(parsed)));
}
