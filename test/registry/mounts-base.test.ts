// A registry base's layers are mounted, not uploaded, when an image built on it is pushed: the base is pushed by
// skopeo to repository base-x of a real docker-registry, `mb build` of an image on it pulls it (recording base-x in the
// store's .cache/blob-locations.json for its config and layers), and `mb push` of that image to app-y mounts the base
// layer from base-x and uploads only the image's own config and layer. skopeo reads app-y back.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { builderOutput, pathPackage } from "../../src/index.js";
import { ociImage } from "../../src/oci/ornament.js";
import { busyboxRootfs } from "../../examples/oci-image/busybox-rootfs.js";
import { mbAsync, mbBuild } from "../support/mb.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { tempDirs } from "../support/temp-dirs.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const dirs = tempDirs("mb-mounts-base");
let reg: TestRegistry;
let store: string;

beforeAll(async () => {
  reg = await startRegistry();
  store = join(dirs.tempDir("store"), "store");
});
afterAll(async () => {
  await reg?.stop();
  dirs.removeAll();
});

const json = (path: string): any => JSON.parse(readFileSync(path, "utf8"));

/** Runs skopeo, failing the test naming the package when it is missing, or with its stderr when it fails. */
function skopeo(args: readonly string[]): string {
  const r = spawnSync("skopeo", [...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.error) throw new Error(`required tool 'skopeo' is not installed: apt-get install skopeo (${r.error.message})`);
  if (r.status !== 0) throw new Error(`skopeo ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** The manifest of the one image of an OCI layout. */
function manifestOf(layout: string): { digest: string; config: { digest: string }; layers: { digest: string }[] } {
  const digest: string = json(join(layout, "index.json")).manifests[0].digest;
  return { digest, ...json(join(layout, "blobs", ...digest.split(":"))) };
}

describe("an image on a registry base, pushed to another repository of that registry", () => {
  it("mounts the base layer from the repository it was pulled from, uploading only its own blobs", async () => {
    const dir = dirs.tempDir("specs");
    const baseSpec = join(dir, "base.json");
    writeFileSync(baseSpec, JSON.stringify(ociImage({ name: "base-img", layers: [{ name: "busybox", source: builderOutput(busyboxRootfs) }], entrypoint: ["/bin/sh"] })));
    const baseLayout = mbBuild(baseSpec, store);
    skopeo(["copy", "--quiet", "--dest-tls-verify=false", `oci:${baseLayout}:base-img`, `docker://${reg.host}/base-x:1`]);
    // skopeo compresses the layer on the way: the registry's manifest is the one pulled
    const base = JSON.parse(skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/base-x:1`])) as { config: { digest: string }; layers: { digest: string }[] };

    mkdirSync(join(dir, "rootfs/app"), { recursive: true });
    writeFileSync(join(dir, "rootfs/app/hello.txt"), "hello from app\n");
    const appSpec = join(dir, "app.json");
    writeFileSync(appSpec, JSON.stringify(ociImage({ name: "app", base: `docker://${reg.host}/base-x:1`, layers: [{ name: "app", source: pathPackage("./rootfs") }], cmd: ["-c", "cat /app/hello.txt"] })));
    const appLayout = mbBuild(appSpec, store);
    const record = json(join(store, ".cache", "blob-locations.json"));
    for (const d of [base.config.digest, ...base.layers.map((l) => l.digest)]) expect(record.registries[reg.host][d]).toEqual(["base-x"]);

    const app = manifestOf(appLayout);
    expect(app.layers.map((l) => l.digest).slice(0, base.layers.length)).toEqual(base.layers.map((l) => l.digest));
    const r = await mbAsync(["push", "--json", appSpec, `docker://${reg.host}/app-y:1`], { store });
    expect(r.stderr.split("\n").filter((l) => l.startsWith("mb: error"))).toEqual([]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const pushed = lines[lines.length - 1];
    expect(pushed.blobs).toEqual({ uploaded: 1 + app.layers.length - base.layers.length, existing: 0, mounted: base.layers.length });
    const mountedFrom = Object.fromEntries(lines.filter((e) => e.event === "push-blob" && e.how === "mounted").map((e) => [e.digest, e.from]));
    expect(mountedFrom).toEqual(Object.fromEntries(base.layers.map((l) => [l.digest, "base-x"])));
    for (const l of base.layers) expect(reg.requests()).toContain(`POST /v2/app-y/blobs/uploads/?mount=${encodeURIComponent(l.digest)}&from=base-x 201`);

    const info = JSON.parse(skopeo(["inspect", "--tls-verify=false", `docker://${reg.host}/app-y:1`]));
    expect(info.Digest).toBe(app.digest);
    expect(info.Layers).toEqual(app.layers.map((l) => l.digest));
  });
});
