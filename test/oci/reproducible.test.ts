// Two builds of one image in different places (the rootfs in two different stores, different out and TMPDIR paths,
// different umasks) give byte-identical blobs, index.json, oci-layout and image.oci.tar.
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ociImage, type LayerCompression } from "../../src/ornaments/oci-image/index.js";
import { busyboxRoot, canonicalModes, filesOf, runScript, tempDir } from "./helpers.js";

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
