// Images on a local base (issue 12, item 1): a base image built here and copied by skopeo into an `oci:` layout and an
// `oci-archive:` file, then an app image FROM each, built by `mb build` from a JSON spec beside them (relative paths
// resolve from the spec's directory). skopeo inspect shows the inherited Env/Entrypoint/Labels and the overridden
// Cmd, umoci unpacks both layers' files, `mb check` runs the evidence inside; bad bases fail naming the reference,
// leaving nothing in the store. Also the example examples/oci-base (a builder output as the base).
import { cpSync, mkdirSync, readdirSync, writeFileSync, chmodSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { builderOutput, evidence, pathPackage } from "../../src/index.js";
import { ociImage, type OciImageArgs } from "../../src/oci/ornament.js";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { busyboxRootfs } from "../../examples/oci-image/busybox-rootfs.js";
import { documents, mb, mbBuild, must, readJson, removeTempDirs, requireTool, tempDir } from "./helpers.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

let store: string;
let dir: string;
let baseLayout: string;

/** Writes a spec as `<dir>/<file>` (JSON) and returns its path. */
function specAt(file: string, spec: unknown): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

/** The app image on `base`: one layer with /app/hello.txt, its own Cmd and one Env entry over the base's. */
function app(base: string, extra: Partial<OciImageArgs> = {}): unknown {
  return ociImage({
    name: "app",
    base,
    layers: [{ name: "app", source: pathPackage("./rootfs") }],
    cmd: ["-c", "cat /app/hello.txt"],
    env: ["GREETING=app"],
    evidence: [evidence({ name: "hello", payload: { command: "/bin/sh -c 'cat /app/hello.txt; echo $GREETING'", expectedOutput: "hello from app\napp" } })],
    ...extra,
  });
}

/** Store entries whose name ends with `suffix`. */
function entries(suffix: string): string[] {
  return readdirSync(store).filter((e) => e.endsWith(suffix));
}

beforeAll(() => {
  const skopeo = requireTool("skopeo");
  store = join(tempDir("store"), "store");
  dir = tempDir("base");
  mkdirSync(join(dir, "rootfs/app"), { recursive: true });
  writeFileSync(join(dir, "rootfs/app/hello.txt"), "hello from app\n");
  const base = ociImage({
    name: "base-img",
    layers: [{ name: "busybox", source: builderOutput(busyboxRootfs) }],
    entrypoint: ["/bin/sh"],
    cmd: ["-c", "echo base"],
    env: ["PATH=/bin", "GREETING=base"],
    labels: { "org.example.from": "base" },
    workingDir: "/",
  });
  baseLayout = mbBuild(specAt("base.json", base), store);
  must(skopeo, ["copy", "--quiet", `oci:${baseLayout}:base-img`, `oci:${join(dir, "base-layout")}:v1`]);
  must(skopeo, ["copy", "--quiet", `oci:${baseLayout}:base-img`, `oci-archive:${join(dir, "base.tar")}:v1`]);
});

describe("an image on an oci: base", () => {
  let layout: string;
  beforeAll(() => {
    layout = mbBuild(specAt("app.json", app("oci:./base-layout:v1")), store);
  });

  it("skopeo inspect shows the inherited Env, Entrypoint and labels and the overridden Cmd; history and diff_ids base first", async () => {
    const skopeo = requireTool("skopeo");
    const config = JSON.parse(must(skopeo, ["inspect", "--config", `oci:${layout}:app`]));
    expect(config.config).toEqual({
      Entrypoint: ["/bin/sh"],
      Cmd: ["-c", "cat /app/hello.txt"],
      Env: ["PATH=/bin", "GREETING=app"],
      Labels: { "org.example.from": "base" },
      WorkingDir: "/",
    });
    const base = documents(baseLayout);
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.rootfs.diff_ids[0]).toBe(base.config.rootfs.diff_ids[0]);
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toEqual(["metabuilder oci-image: layer busybox", "metabuilder oci-image: layer app"]);
    // skopeo copy gzipped the base's layer: the image carries that very blob (same digest), its diff_id unchanged.
    const copied = documents(join(dir, "base-layout")).manifest.layers[0];
    expect(copied.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(documents(layout).manifest.layers[0]).toEqual(copied);
    expect(await verifyOciLayout(layout)).toEqual({ ok: true, problems: [] });
  });

  it("umoci unpacks both layers' files", () => {
    const umoci = requireTool("umoci");
    const out = join(tempDir("umoci"), "bundle");
    must(umoci, ["unpack", "--rootless", "--image", `${layout}:app`, out]);
    expect(readdirSync(join(out, "rootfs/bin"))).toContain("sh");
    expect(must("cat", [join(out, "rootfs/app/hello.txt")])).toBe("hello from app\n");
    must("chmod", ["-R", "u+w", out]);
  });

  it("mb check runs the evidence inside it, with the merged Env", () => {
    const r = mb(["check", join(dir, "app.json")], { store });
    expect(r.stderr + r.stdout).toContain("ok      hello");
    expect(r.status).toBe(0);
  });

  it("an oci-archive: base gives the same layers and config", () => {
    const fromArchive = mbBuild(specAt("app-archive.json", app("oci-archive:./base.tar:v1")), store);
    const a = documents(fromArchive);
    const b = documents(layout);
    expect(a.manifest.layers).toEqual(b.manifest.layers);
    expect(a.config).toEqual(b.config);
    expect(fromArchive).not.toBe(layout); // the base is part of the store path
  });
});

describe("a multi-platform base (an image index)", () => {
  /** A copy of base-layout whose index.json names an image index (ref `multi`) listing the amd64 manifest. */
  function indexLayout(): string {
    const multi = join(dir, "multi-layout");
    cpSync(join(dir, "base-layout"), multi, { recursive: true });
    chmodSync(join(multi, "blobs/sha256"), 0o755);
    chmodSync(multi, 0o755);
    const manifest = readJson(join(multi, "index.json")).manifests[0];
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, platform: { os: "linux", architecture: "amd64" } }] }));
    const digest = createHash("sha256").update(index).digest("hex");
    writeFileSync(join(multi, "blobs/sha256", digest), index);
    chmodSync(join(multi, "index.json"), 0o644);
    writeFileSync(join(multi, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${digest}`, size: index.length, annotations: { "org.opencontainers.image.ref.name": "multi" } }] }));
    return multi;
  }

  it("takes the manifest of the image's platform, and names the platforms it has when there is none", () => {
    indexLayout();
    const layout = mbBuild(specAt("app-multi.json", app("oci:./multi-layout:multi")), store);
    expect(documents(layout).config.config.Env).toEqual(["PATH=/bin", "GREETING=app"]);
    const r = mb(["build", specAt("app-multi-arm.json", app("oci:./multi-layout:multi", { architecture: "arm64" })), "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("oci-image: base 'oci:./multi-layout:multi': is not available for linux/arm64 (its platforms: linux/amd64)");
  });
});

describe("bad bases: a clear error naming the reference, nothing in the store", () => {
  it("an unknown scheme or a registry reference without a tag is refused when the spec is read (exit 2)", () => {
    const spec = JSON.parse(JSON.stringify(app("oci:./base-layout:v1")));
    const bad = specAt("bad-scheme.json", { ...spec, base: { ...spec.base, kind: "mirror" } });
    const r = mb(["build", bad, "--no-out-link"], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/base\.kind/);
    expect(() => app("ftp://example/base:1")).toThrow(/base: base 'ftp:\/\/example\/base:1' has the unknown scheme 'ftp:'/);
    expect(() => app("docker://127.0.0.1:5000/base")).toThrow(/names no tag or digest/);
  });

  it("a ref name the layout does not have", () => {
    const r = mb(["build", specAt("bad-ref.json", app("oci:./base-layout:nope")), "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("oci-image: base 'oci:./base-layout:nope': the layout has no manifest named 'nope' (its ref names: v1)");
  });

  it("a base of another platform", () => {
    const before = entries("-app-oci-image").length;
    const r = mb(["build", specAt("bad-arch.json", app("oci:./base-layout:v1", { architecture: "arm64" })), "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("oci-image: base 'oci:./base-layout:v1': is an image for linux/amd64, not linux/arm64");
    expect(entries("-app-oci-image")).toHaveLength(before);
  });

  it("a blob whose bytes do not match its digest", () => {
    const broken = join(dir, "broken-layout");
    cpSync(join(dir, "base-layout"), broken, { recursive: true });
    const layer = readJson(join(broken, "blobs/sha256", readJson(join(broken, "index.json")).manifests[0].digest.slice(7))).layers[0].digest.slice(7);
    chmodSync(join(broken, "blobs/sha256", layer), 0o644);
    writeFileSync(join(broken, "blobs/sha256", layer), "not the layer");
    const r = mb(["build", specAt("bad-digest.json", app("oci:./broken-layout:v1")), "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/oci-image: base 'oci:.\/broken-layout:v1': digest mismatch for the layer 0 blob: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/);
  });

  it("a directory that is not there", () => {
    const r = mb(["build", specAt("bad-dir.json", app("oci:./nowhere")), "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/path package '.\/nowhere' .* does not exist/);
  });
});

describe("examples/oci-base", () => {
  it("builds FROM examples/oci-image's image (a builder output) and mb check runs its evidence", () => {
    const layout = mbBuild("examples/oci-base", store);
    const { config } = documents(layout);
    expect(config.config).toEqual({ Entrypoint: ["/bin/sh"], Cmd: ["-c", "cat /app/hello.txt"], Env: ["APP_GREETING=hello"] });
    expect(config.rootfs.diff_ids).toHaveLength(2);
    const r = mb(["check", "examples/oci-base"], { store });
    expect(r.stdout + r.stderr).toContain('ok      app-file: output "hello from the app layer"');
    expect(r.status).toBe(0);
  });
});
