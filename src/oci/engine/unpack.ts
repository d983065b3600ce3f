/**
 * Unpacking an image's layers into a root filesystem, in order, with OCI whiteouts (`.wh.<name>` removes a lower file,
 * `.wh..wh..opq` empties a lower directory). Every path is resolved by rootfs.ts with chroot semantics: nothing
 * outside the root is ever read, written, removed or chmod-ed, not even through symlinks already unpacked.
 */
import { createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { MbError } from "../../core/errors.js";
import { blobPath, openLayer, readOciImage } from "./layout.js";
import { lstatOrNull, resolveInRoot } from "./rootfs.js";
import { readTar, type TarEntry } from "./tar.js";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** The components of an archive path, or null for the root; `..` is refused. */
function components(path: string): string[] | null {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new MbError("oci.unpack.unsafe-path", `oci: layer member ${JSON.stringify(path)} leaves the root`);
  return parts.length === 0 ? null : parts;
}

async function removeAll(p: string): Promise<void> {
  await fs.rm(p, { recursive: true, force: true });
}

/** What unpacking did, for tests and messages. */
export interface UnpackResult {
  readonly layers: number;
  readonly entries: number;
}

/**
 * Unpacks the first image of `layoutDir` into `rootfs` (created if missing); owners are applied when running as root.
 * A layer whose digest or diff_id does not match the manifest and config is refused (MbError `oci.layer.corrupt`).
 */
export async function unpackOciImage(layoutDir: string, rootfs: string): Promise<UnpackResult> {
  const image = readOciImage(layoutDir);
  await fs.mkdir(rootfs, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const dirModes = new Map<string, number>(); // root-relative path -> mode, applied last so read-only directories can still be filled
  let entries = 0;

  for (const [i, layer] of image.manifest.layers.entries()) {
    const path = blobPath(layoutDir, layer.digest);
    if (path === null) throw new MbError("oci.layout.invalid", `oci: layer ${i} has a malformed digest`);
    const open = openLayer(path, layer.mediaType);
    const madeHere = new Set<string>(); // host paths this layer created: an opaque whiteout keeps them

    const ensureParent = async (target: string): Promise<void> => {
      const parent = dirname(target);
      const st = await lstatOrNull(parent);
      if (st?.isDirectory()) return;
      if (st) await removeAll(parent);
      await fs.mkdir(parent, { recursive: true, mode: 0o755 });
    };

    const apply = async (e: TarEntry, data: AsyncIterable<Buffer>): Promise<void> => {
      const parts = components(e.path);
      if (parts === null) {
        if (e.type === "directory") dirModes.set("", e.mode);
        return;
      }
      const base = parts[parts.length - 1]!;
      if (base.startsWith(WHITEOUT)) {
        // The directory is resolved through its own symlinks inside the root: a whiteout under a link to the host
        // then names a path inside the root (usually missing), never the host's directory.
        const dir = await resolveInRoot(rootfs, parts.slice(0, -1), "follow");
        if (!(await lstatOrNull(dir))?.isDirectory()) return;
        if (base === OPAQUE) {
          for (const child of await fs.readdir(dir)) {
            const p = join(dir, child);
            if (!madeHere.has(p)) await removeAll(p);
          }
        } else {
          // `.wh..` and `.wh...` would name the directory itself or its parent (outside the root, at the top).
          const name = base.slice(WHITEOUT.length);
          if (name === "" || name === "." || name === "..") {
            throw new MbError("oci.unpack.unsafe-path", `oci: whiteout ${JSON.stringify(e.path)} names no entry (it would remove ${name === "" ? "nothing" : "its own directory or the one above"})`);
          }
          await removeAll(join(dir, name));
        }
        return;
      }
      const target = await resolveInRoot(rootfs, parts);
      await ensureParent(target);
      const existing = await lstatOrNull(target);
      if (existing && !(existing.isDirectory() && e.type === "directory")) await removeAll(target);
      madeHere.add(target);
      switch (e.type) {
        case "directory":
          if (!existing?.isDirectory()) await fs.mkdir(target, { mode: 0o700 });
          await fs.chmod(target, e.mode | 0o700);
          dirModes.set(parts.join("/"), e.mode);
          break;
        case "file":
          await pipeline(Readable.from(data), createWriteStream(target, { mode: 0o600 }));
          break;
        case "symlink":
          await fs.symlink(e.linkpath, target);
          break;
        case "hardlink": {
          const lparts = components(e.linkpath);
          if (lparts === null) throw new MbError("oci.unpack.unsafe-path", `oci: hard link ${e.path} points at the root`);
          // The link's source is resolved inside the root and must be a file or symlink there (link(2) does not
          // follow a final symlink), so no host inode is ever shared into the image.
          const source = await resolveInRoot(rootfs, lparts);
          const st = await lstatOrNull(source);
          if (st === null || st.isDirectory()) {
            throw new MbError("oci.unpack.hardlink", `oci: hard link ${JSON.stringify(e.path)} points at ${JSON.stringify(e.linkpath)}, which is not a file in the image`);
          }
          await fs.link(source, target);
          return; // shares the target's inode: owner and mode are the target's
        }
        default:
          // Devices, fifos and unknown kinds are not needed to run a command: the runner provides /dev.
          madeHere.delete(target);
          return;
      }
      if (asRoot) await fs.lchown(target, e.uid, e.gid);
      if (e.type === "file") await fs.chmod(target, e.mode);
    };

    entries += await readTar(open.data, apply);
    // The same read proves the layer: its digest, and its uncompressed digest against the config's diff_id.
    const facts = await open.finish();
    const diffId = image.config.rootfs?.diff_ids?.[i];
    if (facts.blobDigest !== layer.digest || (diffId !== undefined && facts.diffId !== diffId)) {
      throw new MbError(
        "oci.layer.corrupt",
        `oci: layer ${i} does not match the image: digest ${facts.blobDigest} (manifest says ${layer.digest}), diff_id ${facts.diffId} (config says ${String(diffId)})`,
      );
    }
  }
  // Deepest first, so a read-only parent does not stop its children; a directory a later whiteout removed is gone.
  // Each is resolved again: a later layer may have replaced the directory, or one above it, with a symlink.
  for (const [rel, mode] of [...dirModes].sort((a, b) => b[0].length - a[0].length)) {
    const dir = await resolveInRoot(rootfs, rel);
    if ((await lstatOrNull(dir))?.isDirectory()) await fs.chmod(dir, mode);
  }
  return { layers: image.manifest.layers.length, entries };
}
