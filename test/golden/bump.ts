// What a golden store-path failure says: how to bump the pinned hashes deliberately.
export const BUMP = `store paths moved. Every store path of every user changes with this, so it must be deliberate:
  1. If the change is wanted, rewrite the golden file: npx vitest run test/golden test/cli/golden-path.test.ts -u
  2. If the execution contract changed (what a step runs, its environment, how outputs are sealed), bump
     FINGERPRINT_VERSION in src/program/fingerprint.ts as well.
  3. Say so in the commit message and in README.md ("Golden store paths").
If the change was meant to be cosmetic (a rendering or refactoring detail), it is not: keep the rendered shell and the
fingerprint record byte for byte as they were.`;
