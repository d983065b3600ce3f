// `mb render dockerfile --context DIR` built by buildah (issue 13, items 2 and 4): Debian's buildah 1.28, as root, with
// its own storage (`--root`/`--runroot` in a temporary directory, driver vfs) and `build --isolation chroot --output
// type=local,dest=OUT DIR`; OUT equals `mb build`'s tree for every example (`diff -r` prints nothing). The stages
// build at the store paths `mb build` uses, so a file that embeds the output path is byte-equal too. With chroot
// isolation buildah cannot cut the network (`--network none` is refused there); the build pulls nothing all the same:
// every FROM is `scratch` or a stage of the same Dockerfile.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mbBuild } from "../support/mb.js";
import { requireTool } from "../support/dockerd.js";
import { tempDirs } from "../support/temp-dirs.js";
import { diffTrees, EXAMPLES, FAILURE_LINES, failingBuilder, renderContext } from "./dockerfile-helpers.js";

const dirs = tempDirs("mb-buildah");
let buildahBin = "";
let storage = "";
let store = "";

beforeAll(() => {
  buildahBin = requireTool(["/usr/bin/buildah"], "buildah");
  storage = dirs.tempDir("storage");
  store = dirs.tempDir("store");
});

afterAll(() => {
  if (storage) spawnSync(buildahBin, [...storageArgs(), "rm", "--all"]);
  dirs.removeAll();
}, 300_000);

function storageArgs(): string[] {
  return ["--root", join(storage, "root"), "--runroot", join(storage, "runroot"), "--storage-driver", "vfs"];
}

/** Builds a context with buildah into a fresh OUT; returns the result and OUT. */
function buildah(context: string) {
  const out = join(dirs.tempDir("out"), "OUT");
  const r = spawnSync(buildahBin, [...storageArgs(), "build", "--isolation", "chroot", "--output", `type=local,dest=${out}`, context], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, BUILDAH_ISOLATION: "chroot" },
  });
  return { status: r.status, output: r.stdout + r.stderr, out };
}

describe("mb render dockerfile --context, built by buildah (chroot isolation, vfs)", () => {
  it.each(EXAMPLES)("%s: the output tree equals mb build's", (example) => {
    const built = mbBuild(example, store);
    const r = buildah(renderContext(example, store, dirs.tempDir("ctx")));
    expect(r.status, r.output.slice(-4000)).toBe(0);
    expect(r.output).toContain("mb: step 1/");
    expect(diffTrees(r.out, built)).toBe("");
    if (example === "examples/node-service") {
      // The bin wrapper embeds the output path; built at the store path, it is byte-equal (the diff above).
      expect(readFileSync(join(r.out, "bin/node-service-demo"), "utf8")).toContain(join(built, "lib/node-service-demo/server.js"));
    }
  }, 900_000);

  it("a failing step fails the build, and buildah's output names the step and its status", () => {
    const dir = dirs.tempDir("fails");
    const r = buildah(renderContext(failingBuilder(dir), store, dir));
    expect(r.status).not.toBe(0);
    for (const line of FAILURE_LINES) expect(r.output).toContain(line);
  }, 600_000);
});
