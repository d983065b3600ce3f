import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { includeOf } from "./test/tiers.js";

export default defineConfig({
  resolve: {
    // Examples and fixtures import the package by name; in tests it is the source, so no tier needs dist/ for that.
    alias: [{ find: /^metabuilder$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    globalSetup: ["./test/support/global-setup.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: includeOf("unit") } },
      { extends: true, test: { name: "e2e", include: includeOf("e2e") } },
    ],
  },
});
