// An image with every config field of issue 12 item 3 (test/fixtures/oci/configured.ts), built by `mb build` and read by
// tools nobody here wrote: skopeo inspect (WorkingDir, User, Volumes, StopSignal, labels, annotations, both tags),
// umoci unpack (a file owned by 1000:1000, /tmp 1777), oci-image-tool validate, the image-spec JSON Schemas; `mb check`
// runs its evidence as the config's User. Bad values in a JSON spec are refused by `mb validate` at their path.
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ociImage } from "../../src/oci/ornament.js";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { OCI_RUNNERS, runOciEvidence } from "../../src/oci/engine/run.js";
import { documents, mb, mbBuild, must, ran, requireTool, specFile, tempDir, treeOf, removeTempDirs } from "./helpers.js";
import { ociSchemas, schemaErrors } from "./schemas.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

const TARGET = "test/fixtures/oci/configured.ts#configured";
const TAGS = ["busybox-configured:1.2.3", "registry.example:5000/team/busybox-configured:latest"];
let store: string;
let layout: string;

beforeAll(() => {
  store = join(tempDir("store"), "store");
  layout = mbBuild(TARGET, store);
});

describe("an image with every new config field", () => {
  it("skopeo inspect shows WorkingDir, User, Volumes, StopSignal and the metadata labels, by either tag", () => {
    const skopeo = requireTool("skopeo");
    for (const tag of TAGS) {
      const config = JSON.parse(must(skopeo, ["inspect", "--config", `oci:${layout}:${tag}`]));
      expect(config.config).toMatchObject({
        WorkingDir: "/home/app",
        User: "1000:1000",
        Volumes: { "/cache": {}, "/data": {} },
        StopSignal: "SIGINT",
        Entrypoint: ["/bin/sh"],
      });
      expect(config.config.Labels["org.opencontainers.image.version"]).toBe("1.2.3");
      const info = JSON.parse(must(skopeo, ["inspect", `oci:${layout}:${tag}`]));
      expect(info.Labels["org.opencontainers.image.source"]).toBe("https://example.com/app.git");
      expect(info.Digest).toBe(documents(layout).manifestDigest);
    }
    // The image's bare name is no longer a ref: the tags are.
    expect(ran(skopeo, ["inspect", `oci:${layout}:busybox-configured`]).status).not.toBe(0);
  });

  it("skopeo inspect --raw shows the manifest's annotations; the archive's RepoTags are the tags", () => {
    const skopeo = requireTool("skopeo");
    const raw = JSON.parse(must(skopeo, ["inspect", "--raw", `oci:${layout}:${TAGS[0]}`]));
    expect(raw.annotations).toEqual({
      "com.example.team": "builders",
      "org.opencontainers.image.description": "busybox, configured",
      "org.opencontainers.image.revision": "0123abc",
      "org.opencontainers.image.source": "https://example.com/app.git",
      "org.opencontainers.image.version": "1.2.3",
    });
    const archive = join(layout, "image.oci.tar");
    expect(JSON.parse(must("tar", ["-xOf", archive, "./manifest.json"]))[0].RepoTags).toEqual(TAGS);
    const byTag = JSON.parse(must(skopeo, ["inspect", "--config", `docker-archive:${archive}:${TAGS[0]}`]));
    expect(byTag.config.User).toBe("1000:1000");
  });

  it("podman load of image.oci.tar names the image by both tags", () => {
    const podman = requireTool("podman");
    const dir = tempDir("podman");
    const base = ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs"];
    try {
      const loaded = must(podman, [...base, "load", "-q", "-i", join(layout, "image.oci.tar")]);
      expect(loaded).toContain("Loaded image: localhost/busybox-configured:1.2.3");
      expect(loaded).toContain("Loaded image: registry.example:5000/team/busybox-configured:latest");
      const [img] = JSON.parse(must(podman, [...base, "image", "inspect", "localhost/busybox-configured:1.2.3"]));
      expect(img.Config).toMatchObject({ User: "1000:1000", WorkingDir: "/home/app", StopSignal: "SIGINT" });
    } finally {
      ran(podman, [...base, "rmi", "-a", "-f"]);
      must("chmod", ["-R", "u+w", dir]);
    }
  });

  it("umoci unpack gives /home/app/hello.txt owned by 1000:1000 (mode 640) and /tmp 1777, as the tar headers say", () => {
    const umoci = requireTool("umoci");
    const bundle = join(tempDir("umoci"), "bundle");
    const asRoot = process.getuid?.() === 0;
    must(umoci, ["unpack", ...(asRoot ? [] : ["--rootless"]), "--image", `${layout}:${TAGS[0]}`, bundle]);
    const file = statSync(join(bundle, "rootfs/home/app/hello.txt"));
    expect(file.mode & 0o7777).toBe(0o640);
    expect(statSync(join(bundle, "rootfs/tmp")).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(join(bundle, "rootfs/bin/sh")).isSymbolicLink()).toBe(true);
    if (asRoot) expect([file.uid, file.gid]).toEqual([1000, 1000]);
    // umoci's runtime config carries the User, WorkingDir and the image's annotations.
    const runtime = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    expect(runtime.process.user).toMatchObject({ uid: 1000, gid: 1000 });
    expect(runtime.process.cwd).toBe("/home/app");
    // The tar headers of the app layer, whoever unpacks them.
    const app = documents(layout).manifest.layers[1].digest.slice(7);
    const listing = execFileSync("tar", ["--numeric-owner", "-tvf", join(layout, "blobs/sha256", app)], { encoding: "utf8" });
    expect(listing).toMatch(/^-rw-r----- 1000\/1000 .* \.\/home\/app\/hello\.txt$/m);
    expect(listing).toMatch(/^drwxrwxrwt 0\/0 .* \.\/tmp\/$/m);
  });

  it("oci-image-tool validate, the image-spec JSON Schemas and our chain check accept it", async () => {
    const r = ran(requireTool("oci-image-tool"), ["validate", "--type", "image", layout]);
    expect(r.stderr + r.stdout).toContain("Validation succeeded");
    expect(r.status).toBe(0);
    const schemas = ociSchemas();
    const { index, manifest, config } = documents(layout);
    expect(schemaErrors(schemas["image-index-schema"], index)).toEqual([]);
    expect(schemaErrors(schemas["image-manifest-schema"], manifest)).toEqual([]);
    expect(schemaErrors(schemas["config-schema"], config)).toEqual([]);
    expect(await verifyOciLayout(layout)).toEqual({ ok: true, problems: [] });
  });

  it("mb check runs its evidence as the config's User, in its WorkingDir", () => {
    requireTool("bwrap", "bubblewrap");
    const r = mb(["check", TARGET], { store });
    expect(r.stdout).toBe(`ok      runs-as-user: output "1000\\n1000\\n/home/app"\n1/1 evidence passed for ${layout}\n`);
    expect(r.status).toBe(0);
  });
});

describe.each(OCI_RUNNERS)("evidence under %s", (runner) => {
  it("runs as the config's User in its WorkingDir", async () => {
    requireTool(runner, runner === "bwrap" ? "bubblewrap" : "runc");
    expect(await runOciEvidence(layout, "/bin/sh -c 'id -u; id -g; pwd'", { runner })).toEqual({ status: 0, stdout: "1000\n1000\n/home/app\n", stderr: "" });
  });
});

describe("mb validate of a JSON spec refuses bad values at their path", () => {
  const good = () => ociImage({ name: "x", layers: [{ name: "app", source: "/srv/app", files: [{ path: "/tmp", mode: "1777" }] }], user: "1000" }) as any;

  it("accepts the good spec", () => {
    const r = mb(["validate", specFile(good())], { store });
    expect(r.stdout).toBe("ok\n");
    expect(r.status).toBe(0);
  });

  it.each([
    ["user", (s: any): void => { s.user = "a:b:c"; }, "user: user is 'name', 'uid', 'uid:gid' or 'name:group'"],
    ["mode", (s: any): void => { s.layers[0].files[0].mode = "rwx"; }, "layers[0].files[0].mode: mode is an octal string of 3 or 4 digits"],
    ["uid", (s: any): void => { s.layers[0].files[0].uid = -5; }, "layers[0].files[0].uid: uid is a non-negative integer"],
    ["gid", (s: any): void => { s.layers[0].files[0].gid = "1000"; }, "layers[0].files[0].gid: gid is a non-negative integer"],
    ["path", (s: any): void => { s.layers[0].files[0].path = "tmp"; }, "layers[0].files[0].path: a files path is an absolute path inside the image"],
    ["workingDir", (s: any): void => { s.workingDir = "srv"; }, "workingDir: workingDir is an absolute path inside the image"],
    ["volumes", (s: any): void => { s.volumes = ["data"]; }, "volumes[0]: a volume is an absolute path inside the image"],
    ["stopSignal", (s: any): void => { s.stopSignal = "TERM"; }, "stopSignal: stopSignal is a signal name"],
    ["tags", (s: any): void => { s.tags = ["UPPER:1"]; }, "tags[0]: tags are 'name:tag' references"],
    ["annotations", (s: any): void => { s.annotations = { a: 1 }; }, "annotations.a:"],
    ["files key", (s: any): void => { s.layers[0].files[0].owner = 1; }, "layers[0].files[0].owner: unknown key `owner`"],
  ] as const)("%s", (_, spoil, message) => {
    const spec = good();
    spoil(spec);
    const r = mb(["validate", specFile(spec)], { store });
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(2);
  });
});

describe("a layer's /tmp without `files`", () => {
  it.each(["copy", "direct"] as const)("is 1777 in the layer (assemble: %s), and the store's rootfs keeps its own mode", (assemble) => {
    const umoci = requireTool("umoci");
    const rootfs = treeOf({ "tmp/": null, "etc/motd": "hi\n", "home/": null });
    const spec = ociImage({ name: `tmp-${assemble}`, layers: [{ name: "root", source: rootfs }], entrypoint: ["/bin/true"], assemble }) as any;
    const out = mbBuild(specFile(spec), store);
    const bundle = join(tempDir("umoci"), "bundle");
    must(umoci, ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", `${out}:tmp-${assemble}`, bundle]);
    expect(statSync(join(bundle, "rootfs/tmp")).mode & 0o7777).toBe(0o1777);
    // Only /tmp: its siblings keep their modes.
    expect(statSync(join(bundle, "rootfs/home")).mode & 0o7000).toBe(0);
    const entry = readFileSync(join(out, "index.json"), "utf8");
    expect(JSON.parse(entry).manifests).toHaveLength(1);
    const imported = readdirSync(store).find((n) => n.endsWith("-root"));
    if (imported) expect(statSync(join(store, imported, "tmp")).mode & 0o7777).not.toBe(0o1777);
  });

  it("is left alone when it is a symlink", () => {
    const umoci = requireTool("umoci");
    const rootfs = treeOf({ "var/tmp/": null });
    symlinkSync("var/tmp", join(rootfs, "tmp"));
    const out = mbBuild(specFile(ociImage({ name: "tmp-link", layers: [{ name: "root", source: rootfs }], entrypoint: ["/bin/true"] }) as any), store);
    const bundle = join(tempDir("umoci"), "bundle");
    must(umoci, ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", `${out}:tmp-link`, bundle]);
    expect(lstatSync(join(bundle, "rootfs/tmp")).isSymbolicLink()).toBe(true);
  });
});
