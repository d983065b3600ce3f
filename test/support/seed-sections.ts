/** The introspect view's sections, in the seed page's order (the seed fixture is test/fixtures/seed/oci-image-example.txt). */
export const INTROSPECT_SECTIONS = [
  "Validation",
  "Dependency Graph",
  "Dry Run - Builder",
  "Dry Run - Runtime",
  "Plan View",
  "Plan Shell Excerpt",
  "Runtime Services",
  "Descriptors",
  "Builder Self-Documentation",
  "Materialized Outputs",
  "Materialization",
  "Substrates",
] as const;
