/**
 * Paths inside an unpacked root filesystem, with chroot semantics: every component is resolved inside the root,
 * symlinks are followed as if the root were `/` (an absolute target restarts at the root, `..` stops at it), so no
 * path computed here ever names anything outside the root. Unpacking and the runners touch the rootfs only through it.
 */
import type { Stats } from "node:fs";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { MbError } from "../../core/errors.js";

/** At most this many symlinks are followed while resolving one path (Linux's own limit). */
export const SYMLINK_LIMIT = 40;

/** The components of a path inside the root (`/a/./b` and `a/b` are the same), `..` kept for the resolver. */
export function pathParts(path: string | readonly string[]): string[] {
  const parts = typeof path === "string" ? path.split("/") : path.flatMap((p) => p.split("/"));
  return parts.filter((p) => p !== "" && p !== ".");
}

/** The lstat of a path, or null when it does not exist. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await fs.lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

/** How to resolve the last component: `follow` resolves a symlink there too (as open(2) would), `nofollow` (lstat) not. */
export type LastComponent = "follow" | "nofollow";

/**
 * The host path of `path` inside `root`, resolved as the kernel would inside a chroot to `root`. Every returned path
 * is `root` joined with components that are, at the time of resolution, not symlinks (the last one may be, with
 * `nofollow`) or do not exist. More than SYMLINK_LIMIT links is an MbError `oci.rootfs.symlink-loop`.
 */
export async function resolveInRoot(root: string, path: string | readonly string[], last: LastComponent = "nofollow"): Promise<string> {
  let resolved: string[] = [];
  const queue = pathParts(path);
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    if (queue.length > 0 || last === "follow") {
      const st = await lstatOrNull(candidate);
      if (st?.isSymbolicLink()) {
        if (++hops > SYMLINK_LIMIT) {
          throw new MbError("oci.rootfs.symlink-loop", `oci: too many symlinks (more than ${SYMLINK_LIMIT}) resolving ${JSON.stringify(pathText(path))} in the image`);
        }
        const target = await fs.readlink(candidate);
        if (target.startsWith("/")) resolved = [];
        queue.unshift(...pathParts(target));
        continue;
      }
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}

function pathText(path: string | readonly string[]): string {
  return typeof path === "string" ? path : path.join("/");
}

/**
 * Makes `path` a directory inside `root`, like `mkdir -p` run inside the chroot: symlinks on the way are followed inside
 * the root (a link to a missing directory gets that directory made, inside the root), missing directories are created,
 * and a component that is not a directory is an MbError `oci.rootfs.not-directory` naming `what`. Returns the host path.
 */
export async function mkdirInRoot(root: string, path: string, what: string): Promise<string> {
  const parts = pathParts(path);
  let host = root;
  for (let i = 1; i <= parts.length; i++) {
    const notDirectory = (): MbError =>
      new MbError("oci.rootfs.not-directory", `oci: ${what} ${JSON.stringify(path)}: /${parts.slice(0, i).join("/")} is not a directory in the image`);
    host = await resolveInRoot(root, parts.slice(0, i), "follow");
    const st = await lstatOrNull(host);
    // Every existing component of `host` is a real directory (the resolver lstat-ed it), so -p creates only missing ones.
    if (st === null) await fs.mkdir(host, { recursive: true, mode: 0o755 }).catch(() => Promise.reject(notDirectory()));
    else if (!st.isDirectory()) throw notDirectory();
  }
  return host;
}

/**
 * Makes `/name` (one component) a plain directory at the top of the root, replacing whatever is there that is not one
 * (a symlink is removed, never followed): the mount points a runner needs (`proc`, `dev`).
 */
export async function mountPointInRoot(root: string, name: string): Promise<void> {
  const host = join(root, name);
  const st = await lstatOrNull(host);
  if (st?.isDirectory()) return;
  if (st) await fs.rm(host, { recursive: true, force: true });
  await fs.mkdir(host, { mode: 0o755 });
}
