/**
 * A builder's spec value to its program: a base spec, or an ornamented one (a spec carrying the fields some ornament
 * of the registry inserts), which is checked against that ornament's strict schema before it is forgotten to the base.
 */
import { BuilderSpec } from "../core/spec.js";
import { fromOrnamentedSpec } from "../ornaments/ornament.js";
import { ornamentOfKeys } from "../ornaments/registry.js";
import { fromSpec, type Program } from "../program/program.js";

const BASE_KEYS = new Set(Object.keys(BuilderSpec.shape));

/** Validates a spec (strictly: unknown keys are errors) and compiles it, through its ornament when it has one. */
export async function programOfSpec(value: object): Promise<Program> {
  const extra = Object.keys(value).filter((k) => !BASE_KEYS.has(k));
  const found = await ornamentOfKeys(extra);
  return found === null ? fromSpec(value) : fromOrnamentedSpec(found.loaded.ornament, value);
}
