/**
 * Specs made by an ornament's constructor (`ociImage`) carry a hidden mark naming the fields the ornament inserted and
 * already checked, so the base-spec entry points (`fromSpec`, `builderOutput`) accept them by leaving exactly those
 * fields out. Any other unknown key stays an error. The mark is a non-enumerable property under a global symbol, so a
 * spec made by another copy of this package carries it too, and JSON never does.
 */
const MARK = Symbol.for("metabuilder.ornament-fields");

/** Marks `spec` as made by an ornament constructor that inserted (and checked) `fields`; returns it. */
export function markOrnamented<T extends object>(spec: T, fields: readonly string[]): T {
  Object.defineProperty(spec, MARK, { value: [...fields], enumerable: false });
  return spec;
}

/** A marked spec without the fields its ornament inserted; any other value as it is. */
export function withoutOrnamentFields(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const fields = (value as Record<symbol, unknown>)[MARK];
  if (!Array.isArray(fields)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !fields.includes(k)));
}
