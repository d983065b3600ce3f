// Images on a registry base (issue 12, item 1), against a real docker-registry started here (test/support/registry.ts)
// with a base image pushed by skopeo: the first `mb build` resolves the tag once, pins it in mb.lock.json beside the
// spec and pulls the image into a store entry named by its manifest digest; later builds never ask for the tag, even
// after it moved; `mb lock --update` re-pins; a lock that disagrees with the spec is refused naming both; with the
// registry stopped a build still works from the store, and from a fresh store fails naming the unreachable registry.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { builderOutput, evidence, pathPackage } from "../../src/index.js";
import { ociImage } from "../../src/oci/ornament.js";
import { busyboxRootfs } from "../../examples/oci-image/busybox-rootfs.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { documents, mb, mbBuild, must, ran, readJson, removeTempDirs, requireTool, tempDir } from "./helpers.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let reg: TestRegistry | undefined;
let store: string;
let dir: string;
let ref: string;
let appSpec: string;
const lockFile = (): string => join(dir, "mb.lock.json");
const noEvalCache = { MB_EVAL_CACHE: "0" };

afterAll(async () => {
  await reg?.stop();
  removeTempDirs();
});

/** Builds a busybox base image labelled `flavour` and pushes it to `<registry>/base:1` with skopeo; returns its manifest digest. */
function pushBase(flavour: string): string {
  const skopeo = requireTool("skopeo");
  const spec = join(tempDir("base-spec"), `base-${flavour}.json`);
  writeFileSync(
    spec,
    JSON.stringify(
      ociImage({
        name: "base-img",
        layers: [{ name: "busybox", source: builderOutput(busyboxRootfs) }],
        entrypoint: ["/bin/sh"],
        env: ["PATH=/bin", "FLAVOUR=" + flavour],
        labels: { flavour },
      }),
    ),
  );
  const layout = mbBuild(spec, store);
  must(skopeo, ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:base-img`, `docker://${reg!.host}/base:1`]);
  return JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", `docker://${reg!.host}/base:1`])).Digest;
}

/** Requests for the tag itself (as opposed to manifests and blobs by digest). */
const tagRequests = (): string[] => reg!.requests().filter((r) => / \/v2\/base\/manifests\/1 /.test(r));

beforeAll(async () => {
  requireTool("docker-registry");
  reg = await startRegistry();
  store = join(tempDir("store"), "store");
  dir = tempDir("base-registry");
  mkdirSync(join(dir, "rootfs/app"), { recursive: true });
  writeFileSync(join(dir, "rootfs/app/hello.txt"), "hello from app\n");
  ref = `docker://${reg.host}/base:1`;
  appSpec = join(dir, "app.json");
  writeFileSync(
    appSpec,
    JSON.stringify(
      ociImage({
        name: "app",
        base: ref,
        layers: [{ name: "app", source: pathPackage("./rootfs") }],
        cmd: ["-c", "cat /app/hello.txt"],
        evidence: [evidence({ name: "flavour", payload: { command: "/bin/sh -c 'echo $FLAVOUR'", expectedOutput: "first" } })],
      }),
    ),
  );
});

describe("a registry base", () => {
  let first: string;
  let firstDigest: string;
  let layout: string;

  it("the first build pins the tag in mb.lock.json and pulls the image into an entry named by its manifest digest", () => {
    firstDigest = pushBase("first");
    expect(existsSync(lockFile())).toBe(false);
    layout = mbBuild(appSpec, store);
    first = basename(layout);
    const lock = readJson(lockFile());
    expect(lock).toEqual({
      lockfileVersion: 1,
      bases: { [ref]: { digest: firstDigest, mediaType: "application/vnd.oci.image.manifest.v1+json", platforms: { "linux/amd64": { digest: firstDigest, mediaType: "application/vnd.oci.image.manifest.v1+json", size: expect.any(Number) } } } },
    });
    expect(readdirSync(store)).toContain(readdirSync(store).find((e) => e.endsWith(`-oci-base-${firstDigest.slice(7, 23)}`)));
    const skopeo = requireTool("skopeo");
    const config = JSON.parse(must(skopeo, ["inspect", "--config", `oci:${layout}:app`])).config;
    expect(config).toEqual({ Entrypoint: ["/bin/sh"], Cmd: ["-c", "cat /app/hello.txt"], Env: ["PATH=/bin", "FLAVOUR=first"], Labels: { flavour: "first" } });
    const r = mb(["check", appSpec], { store });
    expect(r.stdout + r.stderr).toContain('ok      flavour: output "first"');
    expect(r.status).toBe(0);
  });

  it("pushed back under a new tag with mb push: skopeo inspect shows the config, podman pulls and runs it", () => {
    const pushed = mb(["push", appSpec, `docker://${reg!.host}/app:2`], { store });
    expect(pushed.stderr.split("\n").filter((l) => l.startsWith("mb: error"))).toEqual([]);
    expect(pushed.status).toBe(0);
    const skopeo = requireTool("skopeo");
    const info = JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", `docker://${reg!.host}/app:2`]));
    expect(info.Digest).toBe(documents(layout).manifestDigest);
    expect(info.Env).toEqual(["PATH=/bin", "FLAVOUR=first"]);
    expect(info.Labels).toEqual({ flavour: "first" });
    expect(info.Layers).toHaveLength(2);
    const config = JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", "--config", `docker://${reg!.host}/app:2`])).config;
    expect(config.Entrypoint).toEqual(["/bin/sh"]);
    expect(config.Cmd).toEqual(["-c", "cat /app/hello.txt"]);
    const podmanDir = tempDir("podman");
    for (const d of ["home", "config", "tmp"]) mkdirSync(join(podmanDir, d));
    const env = { PATH: process.env.PATH, HOME: join(podmanDir, "home"), XDG_CONFIG_HOME: join(podmanDir, "config"), TMPDIR: join(podmanDir, "tmp") };
    const podman = (args: string[]) => ran(requireTool("podman"), ["--root", join(podmanDir, "root"), "--runroot", join(podmanDir, "run"), "--storage-driver", "vfs", "--events-backend", "none", ...args], { env });
    try {
      expect(podman(["pull", "-q", "--tls-verify=false", `docker://${reg!.host}/app:2`]).status).toBe(0);
      // runc here may not raise rlimits to podman's defaults for root: lower ones are always allowed
      const run = podman(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", `${reg!.host}/app:2`]);
      expect(run.stdout).toBe("hello from app\n");
      expect(run.status).toBe(0);
    } finally {
      podman(["rmi", "-a", "-f"]);
      ran("chmod", ["-R", "u+w", podmanDir]);
    }
  });

  it("with the lock, a build never asks for the tag, even after it moved", () => {
    const moved = pushBase("second");
    expect(moved).not.toBe(firstDigest);
    const asked = tagRequests().length;
    const fresh = join(tempDir("store2"), "store");
    const again = mbBuild(appSpec, fresh, noEvalCache);
    expect(documents(again).manifestDigest).toBe(documents(layout).manifestDigest); // the same image, from the pinned base
    expect(tagRequests()).toHaveLength(asked);
    expect(readJson(lockFile()).bases[ref].digest).toBe(firstDigest);
  });

  it("mb lock keeps the pin; mb lock --update re-resolves the tag", () => {
    const kept = mb(["lock", appSpec], { store });
    expect(kept.status).toBe(0);
    expect(kept.stdout.trim()).toBe(lockFile());
    expect(readJson(lockFile()).bases[ref].digest).toBe(firstDigest);
    const updated = mb(["lock", "--update", appSpec], { store });
    expect(updated.status).toBe(0);
    const moved = JSON.parse(must(requireTool("skopeo"), ["inspect", "--tls-verify=false", ref])).Digest;
    expect(updated.stderr).toContain(`mb: pinned ${ref} -> ${moved}`);
    expect(readJson(lockFile()).bases[ref].digest).toBe(moved);
    const rebuilt = mbBuild(appSpec, store, noEvalCache);
    expect(basename(rebuilt)).not.toBe(first);
    expect(documents(rebuilt).config.config.Env).toEqual(["PATH=/bin", "FLAVOUR=second"]);
  });

  it("a lock that disagrees with the spec is refused naming both, and left as it is", () => {
    const good = readJson(lockFile());
    const other = `docker://${reg!.host}/other:1`;
    writeFileSync(lockFile(), JSON.stringify({ ...good, bases: { ...good.bases, [other]: good.bases[ref] } }));
    const r = mb(["build", appSpec, "--no-out-link"], { store, env: noEvalCache });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`mb: error: the lock file disagrees with the spec:\n  ${lockFile()} pins ${other}, which the builder does not use (its registry bases: ${ref})`);
    expect(readJson(lockFile()).bases[other]).toBeDefined();
    writeFileSync(lockFile(), JSON.stringify(good));
  });

  it("a missing tag and a base of another platform fail naming the reference; nothing is pinned or built", () => {
    const before = readFileSync(lockFile(), "utf8");
    const variant = (name: string, base: string, architecture?: "arm64"): string => {
      const d = tempDir(name);
      mkdirSync(join(d, "rootfs"));
      const file = join(d, "app.json");
      writeFileSync(file, JSON.stringify(ociImage({ name: "app", base, layers: [{ name: "app", source: pathPackage("./rootfs") }], ...(architecture ? { architecture } : {}) })));
      return file;
    };
    const missing = variant("missing-tag", `docker://${reg!.host}/base:nope`);
    const r1 = mb(["build", missing, "--no-out-link"], { store });
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain(`${reg!.host}/base:nope`);
    expect(existsSync(join(missing, "..", "mb.lock.json"))).toBe(false);
    const arm = variant("other-platform", ref, "arm64");
    const r2 = mb(["build", arm, "--no-out-link"], { store });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(`mb: error: base ${ref} is an image for linux/amd64, not linux/arm64`);
    expect(existsSync(join(arm, "..", "mb.lock.json"))).toBe(false);
    expect(readFileSync(lockFile(), "utf8")).toBe(before);
  });

  it("with the registry stopped, a build works from the store; from a fresh store it fails naming the registry", async () => {
    const host = reg!.host;
    await reg!.stop();
    reg = undefined;
    expect(mb(["build", appSpec, "--no-out-link"], { store, env: noEvalCache }).status).toBe(0);
    const fresh = join(tempDir("store3"), "store");
    const r = mb(["build", appSpec, "--no-out-link"], { store: fresh, env: noEvalCache });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot reach registry ${host}`);
    expect(readdirSync(fresh).filter((e) => e.includes("-app-oci-image") || e.includes("-oci-base-"))).toEqual([]);
  });
});
