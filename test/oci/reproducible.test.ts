// Two builds of one image in different places give byte-identical blobs, index.json, oci-layout and image.oci.tar:
// `mb build` into two stores from two temporary directories, and the rendered script with the rootfs in two different
// stores, different out and TMPDIR paths and different umasks.
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ociImage, type LayerCompression } from "../../src/oci/ornament.js";
import { VARIANTS, busyboxRoot, canonicalModes, filesOf, mb, mbBuild, runScript, tempDir, removeTempDirs } from "./helpers.js";

// Real builds and real tools: generous limits, for a loaded machine running the whole suite at once.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

/** The busybox rootfs as a store entry under `storeDir`, with the store's read-only modes. */
function storeCopy(storeDir: string, hash: string): string {
  const entry = join(storeDir, `${hash}-busybox-static-rootfs`);
  mkdirSync(storeDir, { recursive: true });
  cpSync(busyboxRoot(), entry, { recursive: true, verbatimSymlinks: true });
  canonicalModes(entry);
  return entry;
}

describe.each(["none", "gzip", "zstd"] as LayerCompression[])("two builds with %s layers", (compression) => {
  it("in different stores, directories and umasks are byte-identical", () => {
    const builds = [
      { dir: tempDir("repro-a"), store: "store", hash: "0".repeat(32), umask: "022" },
      { dir: tempDir("repro-b"), store: "a/much/longer/store/path", hash: "z".repeat(32), umask: "077" },
    ].map(({ dir, store, hash, umask }) => {
      const source = storeCopy(join(dir, store), hash);
      const spec = ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source }], entrypoint: ["/bin/sh"], compression });
      const out = join(dir, "out");
      const r = runScript(spec, out, { tmp: join(dir, "tmp", "x"), umask });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      return filesOf(out);
    });
    const [a, b] = builds as [Map<string, Buffer>, Map<string, Buffer>];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    expect([...a.keys()].filter((k) => k.startsWith("blobs/sha256/"))).toHaveLength(3);
    for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), name).toBe(true);
  });
});

describe.each([
  ["examples/oci-image", "examples/oci-image"],
  ["the zstd variant", `${VARIANTS}#zstd`],
  ["the gzip variant", `${VARIANTS}#gzip`],
])("mb build of %s", (_, target) => {
  it("in two stores, from two temporary directories, is byte-identical", () => {
    const [a, b] = ["one", "two/deeper"].map((where) => {
      const dir = join(tempDir("mb-repro"), where);
      mkdirSync(join(dir, "tmp"), { recursive: true });
      return mbBuild(target, join(dir, "store"), { TMPDIR: join(dir, "tmp") });
    }) as [string, string];
    expect(a).not.toBe(b);
    const [fa, fb] = [filesOf(a), filesOf(b)];
    expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
    expect(fa.size).toBe(6); // oci-layout, index.json, image.oci.tar and three blobs
    for (const [name, bytes] of fa) expect(fb.get(name)!.equals(bytes), name).toBe(true);
  });
});

describe("mb build --check", () => {
  it("rebuilds the image and finds no difference", () => {
    const store = join(tempDir("mb-check"), "store");
    mbBuild("examples/oci-image", store);
    const r = mb(["build", "--check", "examples/oci-image", "--no-out-link"], { store });
    expect(r.stderr).toContain("busybox-shell-oci-image is reproducible: a rebuild matches the stored entry");
    expect(r.status).toBe(0);
  });
});

describe("the fast path through the engine", () => {
  it("assemble: direct with openssl digests gives the example's layout byte for byte", () => {
    const store = join(tempDir("mb-fast"), "store");
    const [seed, fast] = [mbBuild("examples/oci-image", store), mbBuild(`${VARIANTS}#fast`, store)];
    expect(fast).not.toBe(seed);
    expect(filesOf(fast)).toEqual(filesOf(seed));
  });
});
