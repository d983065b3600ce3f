// `mb render dockerfile --context DIR` built by BuildKit (issue 13, items 2 and 4): a private dockerd from Debian's
// docker.io (test/support/dockerd.ts: its own data and exec roots, no bridge, its own containerd) runs
// `DOCKER_BUILDKIT=1 docker build --network=none --output type=local,dest=OUT DIR`, and OUT equals `mb build`'s tree
// for every example (`diff -r` prints nothing). The stages build at the store paths `mb build` uses, so even files
// that embed the output path (node-service's bin wrapper) are byte-equal: there is no
// path difference to allow for. The build has no network and pulls nothing: every FROM is `scratch` or a stage.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mbBuild } from "../support/mb.js";
import { startDockerd, type Dockerd } from "../support/dockerd.js";
import { tempDirs } from "../support/temp-dirs.js";
import { diffTrees, EXAMPLES, FAILURE_LINES, failingBuilder, renderContext } from "./dockerfile-helpers.js";

const dirs = tempDirs("mb-buildkit");
let daemon: Dockerd | undefined;
let store = "";

beforeAll(async () => {
  daemon = await startDockerd();
  store = dirs.tempDir("store");
}, 300_000);

afterAll(async () => {
  await daemon?.stop();
  dirs.removeAll();
}, 300_000);

/** Builds a context with BuildKit into a fresh OUT; returns the result and OUT. */
function buildkit(context: string) {
  const out = join(dirs.tempDir("out"), "OUT");
  const r = daemon!.docker(["build", "--network=none", "--progress=plain", "--output", `type=local,dest=${out}`, context]);
  return { status: r.status, output: r.stdout + r.stderr, out };
}

describe("mb render dockerfile --context, built by BuildKit", () => {
  it.each(EXAMPLES)("%s: the output tree equals mb build's", (example) => {
    const built = mbBuild(example, store);
    const context = renderContext(example, store, dirs.tempDir("ctx"));
    const dockerfile = readFileSync(join(context, "Dockerfile"), "utf8");
    expect(dockerfile.split("\n").filter((l) => l.startsWith("FROM "))).toEqual(expect.arrayContaining(["FROM scratch AS tools", "FROM scratch"]));
    for (const l of dockerfile.split("\n").filter((x) => x.startsWith("FROM "))) expect(l).toMatch(/^FROM (scratch|tools)( AS [a-z0-9]+)?$/);
    const r = buildkit(context);
    expect(r.status, r.output.slice(-4000)).toBe(0);
    expect(r.output).toContain("mb: step 1/");
    expect(diffTrees(r.out, built)).toBe("");
    if (example === "examples/node-service") {
      // The bin wrapper embeds the output path; built at the store path, it is byte-equal (the diff above).
      expect(readFileSync(join(r.out, "bin/node-service-demo"), "utf8")).toContain(join(built, "lib/node-service-demo/server.js"));
    }
  }, 900_000);

  it("a failing step fails the build, and BuildKit's output names the step and its status", () => {
    const dir = dirs.tempDir("fails");
    const r = buildkit(renderContext(failingBuilder(dir), store, dir));
    expect(r.status).not.toBe(0);
    for (const line of FAILURE_LINES) expect(r.output).toContain(line);
    expect(r.output).toContain("about to fail");
  }, 600_000);
});
