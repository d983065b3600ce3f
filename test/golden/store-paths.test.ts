// Golden store paths: the store path of every build of every example builder, pinned. A store path is the hash of the
// fingerprint record (src/program/fingerprint.ts), which holds the rendered shell of every step; so a cosmetic edit to
// how steps render (src/program/render.ts) or to the record moves every store path, and fails here, naming how to bump
// deliberately (test/golden/bump.ts, README "Golden store paths").
//
// Host-independent: the resolution is the real one (src/engine/resolve.ts) with the only machine read, the host
// package lookup, replaced by a fixed stand-in (a host package's version and executables' content hash would otherwise
// enter the fingerprint), a fixed store directory, system and SOURCE_DATE_EPOCH. Examples are discovered: every
// examples/*/builder.ts (which must be a builder) and every other examples/*/*.ts whose default export is one.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { isProgram, sequence, fromSpec, type Program } from "../../src/program/program.js";
import { resolveProgram } from "../../src/engine/resolve.js";
import { ROOT } from "../architecture/source.js";
import { BUMP } from "./bump.js";

vi.mock("../../src/engine/host.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/engine/host.js")>();
  const stand = (name: string): import("../../src/engine/host.js").HostLookup => ({
    packageName: name,
    version: "golden",
    executables: { [name]: `/usr/bin/${name}` },
    contentHash: createHash("sha256").update(`golden host package ${name}`).digest("hex"),
    via: "dpkg",
  });
  return { ...original, lookupHost: stand };
});

export const GOLDEN = { storeDir: "/tmp/mb-golden-store", system: "x86_64-linux", sourceDateEpoch: 1 } as const;

/** A module's default export as `mb` reads it: a program, or a spec (ornamented or not). */
function programOf(value: unknown): Program {
  return isProgram(value) ? sequence((value as Program).operations) : fromSpec(value);
}

/** Every example module that default-exports a builder, relative to the repository root. */
async function exampleBuilders(): Promise<Map<string, Program>> {
  const out = new Map<string, Program>();
  for (const dir of readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
    const files = readdirSync(join(ROOT, "examples", dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort();
    if (!files.includes("builder.ts")) throw new Error(`examples/${dir} has no builder.ts`);
    for (const f of files) {
      const rel = `examples/${dir}/${f}`;
      const mod = (await import(pathToFileURL(join(ROOT, rel)).href)) as { default?: unknown };
      const value = mod.default;
      const isBuilder = isProgram(value) || (typeof value === "object" && value !== null && (value as { _con?: unknown })._con === "MetaBuilderSpec");
      if (f === "builder.ts" && !isBuilder) throw new Error(`${rel}: its default export is not a builder`);
      if (isBuilder) out.set(rel, programOf(value));
    }
  }
  return out;
}

describe("golden store paths of the examples", () => {
  it("are the pinned ones (test/fixtures/golden/store-paths.json)", async () => {
    const builders = await exampleBuilders();
    expect(builders.size).toBeGreaterThanOrEqual(2);
    const table: Record<string, Record<string, { storePath: string; shellSha256: string }>> = {};
    for (const [file, program] of builders) {
      const { builds } = resolveProgram(program, { ...GOLDEN, strict: true });
      table[file] = Object.fromEntries(
        builds.map((b) => [
          b.name,
          {
            storePath: b.storePath.slice(GOLDEN.storeDir.length + 1),
            shellSha256: createHash("sha256").update(String(b.fingerprint.shell)).digest("hex"),
          },
        ]),
      );
    }
    const golden = { ...GOLDEN, examples: table };
    await expect(JSON.stringify(golden, null, 2) + "\n").toMatchFileSnapshot("../fixtures/golden/store-paths.json", BUMP);
  });
});
