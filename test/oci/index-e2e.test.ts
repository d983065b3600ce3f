// The multi-platform example (examples/oci-index: busybox for amd64 and arm64 from Debian's busybox-static of each
// architecture, under one image index) built by `mb build` and read by tools nobody here wrote: skopeo picks each
// platform (--override-arch) and shows the index (--raw), oci-image-tool validates the layout, the index and each image,
// umoci unpacks each platform once skopeo has copied it out (umoci cannot choose a platform in an index: it calls the
// tag ambiguous). The arm64 busybox is the real arm64 binary (ELF e_machine 183). `mb check` of the index runs no
// evidence (the images carry it: `#amd64` runs its smoke test; the arm64 image has none, it cannot run here). A
// rebuild (`mb build --check`) and the rendered shell script give the same layout.
// `mb push` (helper "registry") pushes the index to a real registry (Debian's docker-registry on a loopback port), and
// skopeo inspects each platform there.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { hostPackage } from "../../src/program/constructors.js";
import { ociImage } from "../../src/oci/ornament.js";
import { ociIndex } from "../../src/oci/index-ornament.js";
import { ROOT, documents, mb, mbBuild, must, ran, readJson, requireTool, specFile, tempDir, removeTempDirs } from "./helpers.js";
import { mbAsync } from "../support/mb.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

const EXAMPLE = "examples/oci-index";
const TAG = "busybox-multiarch:1.35";
/** ELF e_machine of each architecture: EM_X86_64 and EM_AARCH64. */
const MACHINE = { amd64: 62, arm64: 183 } as const;
const ARCHES = ["amd64", "arm64"] as const;
let store: string;
let layout: string;

/** The packages setup.sh downloads; missing ones fail the test naming it. */
function requireDebs(): void {
  for (const arch of ARCHES) {
    const deb = join(ROOT, EXAMPLE, "debs", `busybox-static_${arch}.deb`);
    if (!existsSync(deb)) throw new Error(`${deb} is missing: run \`bash ${EXAMPLE}/setup.sh\` (it downloads busybox-static for amd64 and arm64)`);
  }
}

/** The image index blob the layout's index.json names. */
function imageIndex(): { digest: string; index: any } {
  const digest: string = readJson(join(layout, "index.json")).manifests[0].digest;
  return { digest, index: readJson(join(layout, "blobs/sha256", digest.slice(7))) };
}

beforeAll(() => {
  requireDebs();
  requireTool("dpkg-deb", "dpkg");
  store = join(tempDir("store"), "store");
  layout = mbBuild(EXAMPLE, store);
});

describe("skopeo reads the index", () => {
  it("--override-arch picks each platform's image, from the layout and from image.oci.tar", () => {
    const skopeo = requireTool("skopeo");
    const { digest, index } = imageIndex();
    for (const [i, arch] of ARCHES.entries()) {
      for (const ref of [`oci:${layout}`, `oci:${layout}:${TAG}`, `oci-archive:${join(layout, "image.oci.tar")}`]) {
        const info = JSON.parse(must(skopeo, ["inspect", "--override-os", "linux", "--override-arch", arch, ref]));
        expect(info.Architecture).toBe(arch);
        expect(info.Os).toBe("linux");
        expect(info.Digest).toBe(digest);
      }
      const config = JSON.parse(must(skopeo, ["inspect", "--config", "--override-arch", arch, `oci:${layout}:${TAG}`]));
      expect([config.architecture, config.variant]).toEqual([arch, arch === "arm64" ? "v8" : undefined]);
      expect(config.rootfs.diff_ids).toHaveLength(1);
      expect(index.manifests[i].platform.architecture).toBe(arch);
    }
  });

  it("--raw shows the image index: one manifest per platform", () => {
    const raw = JSON.parse(must(requireTool("skopeo"), ["inspect", "--raw", `oci:${layout}:${TAG}`]));
    expect(raw).toEqual(imageIndex().index);
    expect(raw.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(raw.manifests.map((m: { platform: unknown }) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
  });
});

describe("validators accept it", () => {
  it("oci-image-tool validates the layout, the image index, and each manifest and config", () => {
    const tool = requireTool("oci-image-tool");
    const ok = (args: string[]) => {
      const r = ran(tool, ["validate", ...args]);
      expect(r.stdout + r.stderr).toContain("Validation succeeded");
      expect(r.status).toBe(0);
    };
    // The layout (oci-image-tool 1.0 follows the ref to the index, which it does not descend into: it warns and accepts).
    ok(["--type", "image", "--ref", `name=${TAG}`, layout]);
    const { digest, index } = imageIndex();
    ok(["--type", "imageIndex", join(layout, "blobs/sha256", digest.slice(7))]);
    for (const m of index.manifests) {
      ok(["--type", "manifest", join(layout, "blobs/sha256", m.digest.slice(7))]);
      const config = readJson(join(layout, "blobs/sha256", m.digest.slice(7))).config.digest;
      ok(["--type", "config", join(layout, "blobs/sha256", config.slice(7))]);
    }
  });

  it("verifyOciLayout checks every image and each platform against its config", async () => {
    expect(await verifyOciLayout(layout)).toEqual({ ok: true, problems: [] });
  });
});

describe("each platform, copied out by skopeo", () => {
  for (const arch of ARCHES) {
    it(`${arch}: oci-image-tool validates the image, umoci unpacks it, and bin/busybox is the ${arch} ELF (e_machine ${MACHINE[arch]})`, () => {
      const skopeo = requireTool("skopeo");
      const dir = join(tempDir(`copy-${arch}`), "layout");
      must(skopeo, ["copy", "--preserve-digests", "--override-arch", arch, `oci:${layout}:${TAG}`, `oci:${dir}:${arch}`]);
      const r = ran(requireTool("oci-image-tool"), ["validate", "--type", "image", dir]);
      expect(r.stdout + r.stderr).toContain("Validation succeeded");
      // The copy is the index's image, byte for byte.
      expect(documents(dir).manifestDigest).toBe(imageIndex().index.manifests[ARCHES.indexOf(arch)].digest);

      const bundle = join(tempDir(`umoci-${arch}`), "bundle");
      must(requireTool("umoci"), ["unpack", ...(process.getuid?.() === 0 ? [] : ["--rootless"]), "--image", `${dir}:${arch}`, bundle]);
      const busybox = join(bundle, "rootfs/bin/busybox");
      const elf = readFileSync(busybox);
      expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
      expect(elf.readUInt16LE(18)).toBe(MACHINE[arch]);
      expect(must(requireTool("file"), ["-b", busybox])).toContain(arch === "arm64" ? "ARM aarch64" : "x86-64");
      // The applet links, from the package's manual page: bin/sh among them.
      expect(lstatSync(join(bundle, "rootfs/bin/sh")).isSymbolicLink()).toBe(true);
      expect(readdirSync(join(bundle, "rootfs/bin")).length).toBeGreaterThan(200);
    });
  }
});

describe("reproducible, and the same from the rendered shell", () => {
  it("mb build --check: a rebuild of the index matches the stored entry", () => {
    const r = mb(["build", "--check", "--no-out-link", EXAMPLE], { store });
    expect(r.stderr).toContain("busybox-multiarch-oci-index is reproducible: a rebuild matches the stored entry");
    expect(r.status).toBe(0);
  });

  it("mb render shell, run standalone (the images named by store path), gives the same layout byte for byte", () => {
    const r = mb(["render", "shell", EXAMPLE], { store });
    expect(r.status, r.stderr).toBe(0);
    const dir = tempDir("render");
    writeFileSync(join(dir, "build.sh"), r.stdout);
    const built = spawnSync("bash", ["build.sh", "OUT"], { cwd: dir, env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    expect(spawnSync("diff", ["-r", join(dir, "OUT"), layout], { encoding: "utf8" }).stdout).toBe("");
  });
});

describe("the images are builder dependencies, and carry the evidence", () => {
  it("each platform's manifest is the one `mb build <builder>#<arch>` makes (the same store entry)", () => {
    const { index } = imageIndex();
    for (const [i, arch] of ARCHES.entries()) {
      const image = mbBuild(`${EXAMPLE}/builder.ts#${arch}`, store);
      expect(documents(image).manifestDigest).toBe(index.manifests[i].digest);
    }
  });

  it("mb check of the index runs no evidence; of the amd64 image, its smoke test inside the image", () => {
    const r = mb(["check", EXAMPLE], { store });
    expect(r.stdout).toBe(`no evidence has a command to run for ${layout}\n`);
    expect(r.status).toBe(0);
    requireTool("bwrap", "bubblewrap");
    const amd64 = mb(["check", `${EXAMPLE}/builder.ts#amd64`], { store });
    expect(amd64.stdout).toContain('ok      smoke-test: output "oci-smoke-ok"\n');
    expect(amd64.status).toBe(0);
  });

  it("mb validate of a JSON index spec with two images of one platform is exit 2, naming both", () => {
    const image = (name: string, architecture: "amd64" | "arm64") => ociImage({ name, architecture, layers: [{ name: "root", source: hostPackage("rootfs") }] });
    const spec = JSON.parse(JSON.stringify(ociIndex({ name: "dup", images: [image("one", "amd64"), image("two", "arm64")] })));
    expect(mb(["validate", specFile(spec)], { store }).status).toBe(0);
    spec.images[1].platform = { architecture: "amd64", os: "linux" };
    const r = mb(["validate", specFile(spec)], { store });
    expect(r.stderr).toContain("images[1].platform: 'two' is linux/amd64, as images[0] 'one' is: an index holds one image per platform");
    expect(r.status).toBe(2);
  });
});

describe("mb push of the index", () => {
  let reg: TestRegistry | undefined;
  afterAll(async () => reg?.stop());

  it("pushes both platforms and the index; skopeo picks each platform from the registry", async () => {
    reg = await startRegistry();
    const ref = `docker://${reg.host}/busybox-multiarch:1.35`;
    const r = await mbAsync(["push", EXAMPLE, ref], { store });
    expect(r.stderr).not.toContain("error");
    expect(r.status).toBe(0);
    const { digest, index } = imageIndex();
    expect(r.stdout).toContain(`docker://${reg.host}/busybox-multiarch@${digest}\n`);
    const skopeo = requireTool("skopeo");
    expect(JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", "--raw", ref]))).toEqual(index);
    for (const arch of ARCHES) {
      const info = JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", "--override-os", "linux", "--override-arch", arch, ref]));
      expect([info.Architecture, info.Digest]).toEqual([arch, digest]);
      const config = JSON.parse(must(skopeo, ["inspect", "--tls-verify=false", "--config", "--override-arch", arch, ref]));
      expect(config.architecture).toBe(arch);
    }
  });
});
