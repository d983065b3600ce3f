// Golden store path through the CLI: `mb path --json` of a fixture builder that reads nothing of the host (its one
// tool is a path package inside the repository), pinned per system (the system is part of every fingerprint). With
// test/golden/store-paths.test.ts (the examples, in-process), a change to how store paths are computed fails here,
// naming how to bump deliberately.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromSpec } from "../../src/program/program.js";
import { hostSystem, resolveProgram } from "../../src/engine/resolve.js";
import { BUMP } from "../golden/bump.js";
import { mb, ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

const STORE = "/tmp/mb-golden-store";
const FIXTURE = "test/fixtures/golden/greeter.json";
const dirs = tempDirs("mb-golden");

describe("mb path of the golden fixture", () => {
  it("is the pinned store path for this system", async () => {
    const r = mb(["path", "--json", FIXTURE, "--store", STORE], { env: { SOURCE_DATE_EPOCH: "1" } });
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { name: string; storePath: string; needs: string[] };
    expect(printed.name).toBe("golden-greeter");
    expect(printed.needs).toEqual([]);
    expect(printed.storePath.startsWith(`${STORE}/`)).toBe(true);

    // The CLI computes what the library computes.
    const lib = resolveProgram(fromSpec(JSON.parse(readFileSync(join(ROOT, FIXTURE), "utf8"))), { storeDir: STORE, system: hostSystem(), sourceDateEpoch: 1, strict: true, baseDir: dirname(join(ROOT, FIXTURE)) });
    expect(lib.root.storePath).toBe(printed.storePath);

    const golden = { storeDir: STORE, sourceDateEpoch: 1, system: hostSystem(), paths: { [FIXTURE]: printed.storePath.slice(STORE.length + 1) } };
    await expect(JSON.stringify(golden, null, 2) + "\n").toMatchFileSnapshot(`../fixtures/golden/cli-path.${hostSystem()}.json`, BUMP);
  });

  it("only computes: no store is made", () => {
    const store = join(dirs.tempDir("absent"), "store");
    const r = mb(["path", FIXTURE, "--store", store]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith(`${store}/`)).toBe(true);
    expect(existsSync(store)).toBe(false);
    dirs.removeAll();
  });
});
