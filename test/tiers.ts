// The two test tiers, by directory. Every test file lies in exactly one of these directories
// (test/architecture/tiers.test.ts checks it), so a new directory must be given a tier here.
//
// unit: the pure layers (core, program, views, backends, ornaments), the architecture rules and the golden store
//   hashes. In-process only: no `mb` process, no dist/, no host tools beyond node and a POSIX shell (bash, coreutils).
//   `npm run test:unit`, well under a minute.
// e2e: everything that runs the built `mb` (through test/support/mb.ts), reads dist/, or needs host tools (shellcheck,
//   busybox-static, tar, zstd, the OCI schemas, npm). `npm test` runs both tiers after the build and the typecheck.
export const TIERS = {
  unit: ["test/core", "test/views", "test/ornaments", "test/architecture", "test/golden"],
  e2e: ["test/cli", "test/engine", "test/oci", "test/pack", "test/run", "test/security", "test/tools", "test/engines"],
} as const;

export type Tier = keyof typeof TIERS;

/** The vitest include globs of a tier. */
export function includeOf(tier: Tier): string[] {
  return TIERS[tier].map((dir) => `${dir}/**/*.test.ts`);
}
