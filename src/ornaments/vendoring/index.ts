/**
 * The vendoring ornament, over project-builder: a typed `contract` naming the fields a vendored package must declare
 * (`mkContract`, `defaultContract`, `define`, and `checkRequired`, which lists the required fields a package's
 * metadata lacks). It adds no operations (the original's VendoringBuilder).
 */
import { z } from "zod";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import { baseListArgs, ProjectBuilder, withBaseLists } from "../project-builder/index.js";

/** What a vendored package must (required) and may (optional) declare. */
export const VendoringContract = strictObject({
  _con: z.literal("MetaBuilderVendoringContract").default("MetaBuilderVendoringContract"),
  required: z.array(z.string()).default([]).describe("fields a vendored package must declare"),
  optional: z.array(z.string()).default([]).describe("fields the framework reads when present"),
  description: z.string().default(""),
});
export type VendoringContract = z.output<typeof VendoringContract>;

/** VendoringBuilder: ProjectBuilder plus the vendoring contract. */
export const VendoringBuilder = defineOrnament({ name: "MetaBuilderVendoring", base: ProjectBuilder, fields: { contract: VendoringContract } });
export type VendoringSpec = z.output<typeof VendoringBuilder.schema>;

/** A validated contract. */
export function mkContract(args: z.input<typeof VendoringContract> = {}): VendoringContract {
  return parseOrThrow(VendoringContract, { ...args, _con: "MetaBuilderVendoringContract" }, "mkContract", "constructor.invalid");
}

/** The framework's standard contract: `name` and `deps` required; version, path, source marker and registry optional. */
export const defaultContract: VendoringContract = mkContract({
  required: ["name", "deps"],
  optional: ["version", "path", "isSourcePackage", "registry"],
  description:
    "Vendored packages declare a typed `name` and a list of direct `deps`. Optional fields carry version metadata, install path, source-vs-binary marker, and registry membership.\n",
});

/** Arguments of `define`: langName, the contract (default `defaultContract`), the base fields (empty lists). */
export const VendoringArgs = strictObject({
  langName: z.string().min(1),
  contract: VendoringContract.optional(),
  name: storeNamed().optional(),
  ...baseListArgs,
});

/** A VendoringBuilder spec (`name` defaults to `<langName>Vendoring`). */
export function define(args: z.input<typeof VendoringArgs>): VendoringSpec {
  const a = parseOrThrow(VendoringArgs, args, "vendoring.define", "constructor.invalid");
  const spec = withBaseLists(a, { name: a.name ?? `${a.langName}Vendoring`, contract: a.contract ?? defaultContract });
  return markOrnamented(parseOrThrow(VendoringBuilder.schema, spec, "vendoring.define", "constructor.invalid"), VendoringBuilder.inserted);
}

/** The contract's required fields that `metadata` lacks (empty: it satisfies the contract). */
export function checkRequired(contract: VendoringContract, metadata: Record<string, unknown>): string[] {
  return contract.required.filter((f) => !Object.hasOwn(metadata, f));
}

/** The vendoring ornament as the registry loads it. */
export const vendoringOrnament: LoadedOrnament<typeof VendoringBuilder.schema> = {
  ornament: VendoringBuilder,
  example: () => define({ langName: "alpha" }),
};
