/**
 * Ornaments: the base spec schema plus inserted fields, strict like every record (an unknown key is an error with a
 * "did you mean"); `forget` is derived from the base schema: it keeps the base schema's keys and parses them.
 */
import { z } from "zod";
import { BuilderSpec } from "../core/spec.js";
import { jsonSchemaOf } from "../core/json-schema.js";
import { strictObject } from "../core/strict.js";
import { parseOrThrow } from "../core/validate-schema.js";
import { compileSpec, unsafeProgram, type Program } from "../program/program.js";

/** An ornament over the base spec (or over another ornament). */
export interface Ornament<S extends z.ZodType = z.ZodType> {
  /** The ornament's name, e.g. `MetaBuilderOciImage`. */
  readonly name: string;
  /** The ornamented spec schema: base fields kept, inserted fields added. */
  readonly schema: S;
  /** Names of the fields this ornament (and those below it) inserted. */
  readonly inserted: readonly string[];
  /** Projects an ornamented spec back to the base spec; operations are untouched. */
  forget(spec: z.output<S>): BuilderSpec;
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

/** Defines an ornament that inserts `fields` into the base spec (or into `base`, to stack ornaments). */
export function defineOrnament<Fields extends z.ZodRawShape, B extends Ornament<z.ZodObject<BaseShape & z.ZodRawShape>> | undefined = undefined>(def: {
  name: string;
  fields: Fields;
  base?: B;
}): Ornament<z.ZodObject<BaseShape & (B extends Ornament<z.ZodObject<infer BS>> ? BS : object) & Fields>> {
  const baseSchema = (def.base?.schema ?? BuilderSpec) as z.ZodObject<z.ZodRawShape>;
  const schema = strictObject({ ...baseSchema.shape, ...def.fields }) as unknown as z.ZodObject<BaseShape & z.ZodRawShape>;
  const inserted = [...(def.base?.inserted ?? []), ...Object.keys(def.fields)];
  const kept = Object.keys(BuilderSpec.shape);
  const ornament: Ornament<typeof schema> = {
    name: def.name,
    schema,
    inserted,
    forget: (spec) => BuilderSpec.parse(Object.fromEntries(kept.flatMap((k) => (k in spec ? [[k, (spec as Record<string, unknown>)[k]]] : [])))),
    jsonSchema: () => jsonSchemaOf(schema),
    describe: () => ({ name: def.name, base: def.base?.name ?? "MetaBuilderSpec", constructor: "MetaBuilderSpec", kept, inserted }),
  };
  return ornament as never;
}

/** Validates a spec against an ornament's type, forgets the inserted fields, and compiles it. */
export function fromOrnamentedSpec<S extends z.ZodType>(ornament: Ornament<S>, spec: unknown): Program {
  const parsed = parseOrThrow(ornament.schema, spec, `${ornament.name} spec`);
  return unsafeProgram(compileSpec(ornament.forget(parsed)));
}
