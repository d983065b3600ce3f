// The busybox-shell image, built by `mb build` (examples/oci-image, and its gzip and zstd variants), checked by tools
// nobody here wrote (skopeo, umoci, oci-image-tool), by the image-spec JSON Schemas, by our own digest/size/diff_id chain
// check, and by `mb check`, which runs the smoke test inside the image.
import { copyFileSync, cpSync, existsSync, lstatSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LayerCompression } from "../../src/oci/ornament.js";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { VARIANTS, documents, mb, mbBuild, must, ran, readJson, requireTool, tempDir, removeTempDirs } from "./helpers.js";

// Real builds and real tools: generous limits, for a loaded machine running the whole suite at once.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);
import { ociSchemas, schemaErrors } from "./schemas.js";

const COMPRESSIONS: LayerCompression[] = ["none", "gzip", "zstd"];
const layouts = new Map<LayerCompression, string>();

const TARGETS: Record<LayerCompression, string> = { none: "examples/oci-image", gzip: `${VARIANTS}#gzip`, zstd: `${VARIANTS}#zstd` };
let store: string;

beforeAll(() => {
  store = join(tempDir("store"), "store");
  for (const compression of COMPRESSIONS) layouts.set(compression, mbBuild(TARGETS[compression], store));
});

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

describe.each(COMPRESSIONS)("busybox-shell with %s layers", (compression) => {
  const layout = (): string => layouts.get(compression)!;

  it("has the layout's files and nothing else", () => {
    expect(readJson(join(layout(), "oci-layout"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const top = ["blobs", "image.oci.tar", "index.json", "oci-layout"];
    expect(must("ls", ["-A", layout()]).trim().split("\n")).toEqual(top);
  });

  it("mb check runs the smoke test inside the image and passes", () => {
    requireTool("bwrap", "bubblewrap");
    const r = mb(["check", TARGETS[compression]], { store });
    expect(r.stdout).toBe(`ok      smoke-test: output "oci-smoke-ok"\n1/1 evidence passed for ${layout()}\n`);
    expect(r.status).toBe(0);
  });

  it("skopeo inspect reads it as oci: and as oci-archive:", () => {
    const skopeo = requireTool("skopeo");
    const { manifest, manifestDigest } = documents(layout());
    for (const ref of [`oci:${layout()}:busybox-shell`, `oci-archive:${join(layout(), "image.oci.tar")}:busybox-shell`]) {
      const info = JSON.parse(must(skopeo, ["inspect", ref]));
      expect(info.Digest).toBe(manifestDigest);
      expect(info.Layers).toEqual(manifest.layers.map((l: { digest: string }) => l.digest));
      expect(info.Architecture).toBe("amd64");
      expect(info.Os).toBe("linux");
      expect(info.Created).toBe("1970-01-01T00:00:01Z");
    }
  });

  it("podman load accepts image.oci.tar (daemonless, in a private storage root)", () => {
    const podman = requireTool("podman");
    const dir = tempDir("podman");
    const base = ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs"];
    try {
      expect(must(podman, [...base, "load", "-q", "-i", join(layout(), "image.oci.tar")])).toContain("Loaded image: localhost/busybox-shell:latest");
      const [img] = JSON.parse(must(podman, [...base, "image", "inspect", "localhost/busybox-shell:latest"]));
      expect(img.RootFS.Layers).toEqual(documents(layout()).config.rootfs.diff_ids);
      expect(img.Config.Entrypoint).toEqual(["/bin/sh"]);
    } finally {
      ran(podman, [...base, "rmi", "-a", "-f"]);
      must("chmod", ["-R", "u+w", dir]);
    }
  });

  it("skopeo inspect --config returns our config", () => {
    const skopeo = requireTool("skopeo");
    expect(JSON.parse(must(skopeo, ["inspect", "--config", `oci:${layout()}:busybox-shell`]))).toEqual(documents(layout()).config);
  });

  it("image.oci.tar is also a docker-archive: skopeo reads it through its manifest.json", () => {
    const skopeo = requireTool("skopeo");
    const { manifest, configDigest } = documents(layout());
    const archive = join(layout(), "image.oci.tar");
    const dm = JSON.parse(must("tar", ["-xOf", archive, "./manifest.json"]));
    expect(dm).toEqual([
      {
        Config: `blobs/sha256/${configDigest.slice(7)}`,
        RepoTags: ["busybox-shell:latest"],
        Layers: manifest.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`),
      },
    ]);
    // Found by its RepoTag, and by that tag only.
    const info = JSON.parse(must(skopeo, ["inspect", `docker-archive:${archive}:busybox-shell:latest`]));
    expect(info.Name).toBe("docker.io/library/busybox-shell");
    // A docker-archive names layers by diff_id: skopeo reads each through manifest.json and checks it.
    expect(info.Layers).toEqual(documents(layout()).config.rootfs.diff_ids);
    const copy = join(tempDir("from-docker-archive"), "layout");
    must(skopeo, ["copy", "--quiet", `docker-archive:${archive}:busybox-shell:latest`, `oci:${copy}:again`]);
    expect(JSON.parse(must(skopeo, ["inspect", "--config", `oci:${copy}:again`])).rootfs).toEqual(documents(layout()).config.rootfs);
    expect(ran(skopeo, ["inspect", `docker-archive:${archive}:no-such-image:latest`]).status).not.toBe(0);
    expect(JSON.parse(must(skopeo, ["inspect", "--config", `docker-archive:${archive}`]))).toEqual(documents(layout()).config);
  });

  it("index.json, the manifest, the config and oci-layout match the image-spec JSON Schemas", () => {
    const schemas = ociSchemas();
    const { index, manifest, config } = documents(layout());
    expect(schemaErrors(schemas["image-index-schema"], index)).toEqual([]);
    expect(schemaErrors(schemas["image-manifest-schema"], manifest)).toEqual([]);
    expect(schemaErrors(schemas["config-schema"], config)).toEqual([]);
    expect(schemaErrors(schemas["image-layout-schema"], readJson(join(layout(), "oci-layout")))).toEqual([]);
    // The schemas do reject: a manifest without its config is invalid.
    expect(schemaErrors(schemas["image-manifest-schema"], { ...manifest, config: undefined })).not.toEqual([]);
  });

  it("passes our own digest, size and diff_id chain check", async () => {
    expect(await verifyOciLayout(layout())).toEqual({ ok: true, problems: [] });
    const { manifest, config } = documents(layout());
    const layerBytes = readFileSync(join(layout(), "blobs/sha256", manifest.layers[0].digest.slice(7)));
    expect(manifest.layers[0].size).toBe(layerBytes.length);
    if (compression === "none") expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
    else expect(config.rootfs.diff_ids[0]).not.toBe(manifest.layers[0].digest);
  });
});

// Not for zstd layers: Docker's image format has none (skopeo: "zstd compression is not supported for docker images"),
// and Debian 12's umoci 0.4.7 and oci-image-tool 1.0.0-rc1 predate the +zstd media type of image-spec 1.1.
describe.each(["none", "gzip"] as const)("busybox-shell with %s layers, by tools that know no zstd", (compression) => {
  const layout = (): string => layouts.get(compression)!;

  it("skopeo copy writes it to a docker-archive:", () => {
    const skopeo = requireTool("skopeo");
    const { config } = documents(layout());
    const dest = join(tempDir("docker-archive"), "image.tar");
    must(skopeo, ["copy", "--quiet", `oci:${layout()}:busybox-shell`, `docker-archive:${dest}:busybox-shell:latest`]);
    const back = JSON.parse(must(skopeo, ["inspect", "--config", `docker-archive:${dest}:busybox-shell:latest`]));
    expect(back.rootfs).toEqual(config.rootfs);
    expect(back.config).toEqual(config.config);
  });

  it("umoci unpack gives a rootfs with bin/busybox and bin/sh -> busybox", () => {
    const umoci = requireTool("umoci");
    const bundle = join(tempDir("umoci"), "bundle");
    must(umoci, ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", `${layout()}:busybox-shell`, bundle]);
    expect(statSync(join(bundle, "rootfs/bin/busybox")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(bundle, "rootfs/bin/sh")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(bundle, "rootfs/bin/sh"))).toBe("busybox");
    const runtimeConfig = readJson(join(bundle, "config.json"));
    expect(runtimeConfig.process.args).toEqual(["/bin/sh"]);
  });

  it("oci-image-tool validate --type image accepts it", () => {
    const tool = requireTool("oci-image-tool");
    const r = ran(tool, ["validate", "--type", "image", layout()]);
    expect(r.stderr + r.stdout).toContain("Validation succeeded");
    expect(r.status).toBe(0);
  });

});

describe("our chain check rejects broken layouts", () => {
  const broken = (): { dir: string; docs: ReturnType<typeof documents> } => {
    const dir = join(tempDir("broken"), "layout");
    cpSync(layouts.get("gzip")!, dir, { recursive: true });
    must("chmod", ["-R", "u+w", dir]); // store entries are read-only
    return { dir, docs: documents(dir) };
  };
  const blob = (dir: string, digest: string): string => join(dir, "blobs/sha256", digest.slice(7));

  it("a corrupted layer blob (one byte flipped)", async () => {
    const { dir, docs } = broken();
    const p = blob(dir, docs.manifest.layers[0].digest);
    const b = readFileSync(p);
    b[b.length >> 1] ^= 0xff;
    writeFileSync(p, b);
    const v = await verifyOciLayout(dir);
    expect(v.ok).toBe(false);
    expect(v.problems.join("\n")).toMatch(/layer 0: (digest mismatch|unreadable)/);
    expect(v.problems.join("\n")).toContain(`blobs/sha256/${docs.manifest.layers[0].digest.slice(7)}: content hashes to`);
  });

  it("a truncated config (size and digest both wrong)", async () => {
    const { dir, docs } = broken();
    const p = blob(dir, docs.configDigest);
    writeFileSync(p, readFileSync(p).subarray(0, 10));
    const v = await verifyOciLayout(dir);
    expect(v.ok).toBe(false);
    expect(v.problems.join("\n")).toContain("config: size mismatch");
    expect(v.problems.join("\n")).toContain("config: digest mismatch");
  });

  it("a missing blob", async () => {
    const { dir, docs } = broken();
    renameSync(blob(dir, docs.manifest.layers[0].digest), join(dir, "elsewhere"));
    const v = await verifyOciLayout(dir);
    expect(v.problems.join("\n")).toContain(`blob ${docs.manifest.layers[0].digest} is missing`);
  });

  it("a config whose diff_id is not the uncompressed layer's digest, though every blob is consistent", async () => {
    const { dir, docs } = broken();
    const config = { ...docs.config, rootfs: { type: "layers", diff_ids: [`sha256:${"0".repeat(64)}`] } };
    const cfgBytes = Buffer.from(JSON.stringify(config));
    const cfgDigest = sha256(cfgBytes);
    writeFileSync(blob(dir, cfgDigest), cfgBytes);
    const manifest = { ...docs.manifest, config: { ...docs.manifest.config, digest: cfgDigest, size: cfgBytes.length } };
    const mBytes = Buffer.from(JSON.stringify(manifest));
    writeFileSync(blob(dir, sha256(mBytes)), mBytes);
    const index = { ...docs.index, manifests: [{ ...docs.index.manifests[0], digest: sha256(mBytes), size: mBytes.length }] };
    writeFileSync(join(dir, "index.json"), JSON.stringify(index));
    const v = await verifyOciLayout(dir);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(/layer 0: diff_id mismatch: the config says sha256:0{64}, the uncompressed layer hashes to sha256:[0-9a-f]{64}/);
  });

  it("a layer that is not a tar, with a consistent digest", async () => {
    const { dir, docs } = broken();
    const junk = Buffer.from("not a tar archive at all".repeat(40));
    const gz = must("bash", ["-c", `printf %s "$1" | gzip -n | base64 -w0`, "x", junk.toString()]);
    const bytes = Buffer.from(gz, "base64");
    const d = sha256(bytes);
    writeFileSync(blob(dir, d), bytes);
    const manifest = { ...docs.manifest, layers: [{ ...docs.manifest.layers[0], digest: d, size: bytes.length }] };
    const mBytes = Buffer.from(JSON.stringify(manifest));
    writeFileSync(blob(dir, sha256(mBytes)), mBytes);
    writeFileSync(join(dir, "index.json"), JSON.stringify({ ...docs.index, manifests: [{ ...docs.index.manifests[0], digest: sha256(mBytes), size: mBytes.length }] }));
    const v = await verifyOciLayout(dir);
    expect(v.problems.join("\n")).toMatch(/layer 0: unreadable: tar: /);
  });

  it("a blob whose name is not its hash, even when nothing refers to it", async () => {
    const { dir } = broken();
    copyFileSync(join(dir, "oci-layout"), join(dir, "blobs/sha256", "a".repeat(64)));
    const v = await verifyOciLayout(dir);
    expect(v.problems).toEqual([`blobs/sha256/${"a".repeat(64)}: content hashes to ${sha256(readFileSync(join(dir, "oci-layout")))}`]);
  });

  it("a directory that is no layout at all", async () => {
    const v = await verifyOciLayout(tempDir("empty"));
    expect(v.ok).toBe(false);
    expect(v.problems.join("\n")).toContain("oci-layout: oci: cannot read");
    expect(existsSync(tempDir("x"))).toBe(true);
  });
});
