/**
 * Sealing a build output in place: canonical form (files 0444 or 0555, directories 0555, mtime 1, no setuid or
 * setgid, no hard links shared with anything outside), self-references to the temporary output path rewritten to the
 * final store path, and the format-2 tree hash (tree-hash.ts) with every file's digest.
 *
 * Which digest each file gets (early, from workers, or inline) is the digest policy of seal-digests.ts; the early
 * digests come from the Speculator (speculator.ts).
 */
import { chmodSync, copyFileSync, constants as fsConstants, lstatSync, lutimesSync, readdirSync, readlinkSync, renameSync, symlinkSync, unlinkSync, utimesSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileDigester, type DigestTally, type Digests, type SealOptions } from "./seal-digests.js";
import { canonicalMode, CANONICAL_MTIME, fileRecord, SpecialFileError, symlinkHeader, type SealResult } from "./tree-hash.js";

export type { SealOptions } from "./seal-digests.js";

interface FileNode {
  readonly kind: "file";
  readonly path: string;
  readonly rel: string;
  readonly mode: number;
  size: number;
  digest: Digests | Promise<Digests>;
}
interface DirNode {
  readonly kind: "dir";
  readonly path: string;
  readonly mode: number;
  readonly children: [string, Node][];
}
interface LinkNode {
  readonly kind: "symlink";
  readonly path: string;
  readonly target: string;
}
type Node = FileNode | DirNode | LinkNode;

/** Gives a hard-linked file its own copy, so that nothing done to the output reaches a file outside it. */
function breakHardLink(path: string): void {
  const tmp = `${path}.mb-unlink-${process.pid}`;
  copyFileSync(path, tmp, fsConstants.COPYFILE_EXCL);
  renameSync(tmp, path);
}

/**
 * Seals a build output in place and returns its format-2 tree hash, the digest of every regular file (by path
 * relative to the root), and what it rewrote.
 */
export async function sealTree(root: string, opts: SealOptions = {}): Promise<SealResult> {
  const rw = opts.rewrite;
  const tally: DigestTally = { rewritten: [], reused: 0 };
  const rewritten = tally.rewritten;
  const fileDigest = fileDigester(opts, tally);
  const digests = new Map<string, string>();
  let files = 0;
  let bytes = 0;

  const visit = (path: string, rel: string): Node => {
    let st = lstatSync(path, { bigint: true });
    if (st.isSymbolicLink()) {
      let target = readlinkSync(path);
      if (rw && target.includes(rw.from.toString())) {
        target = target.replaceAll(rw.from.toString(), rw.to.toString());
        unlinkSync(path);
        symlinkSync(target, path);
        rewritten.push(rel);
      }
      return { kind: "symlink", path, target };
    }
    if (st.isFile()) {
      // A hard link may share its inode with a file outside the output: give the output its own copy before any
      // chmod, utimes or rewrite touches the inode.
      if (st.nlink > 1n) {
        breakHardLink(path);
        st = lstatSync(path, { bigint: true });
      }
      files++;
      bytes += Number(st.size);
      return { kind: "file", path, rel, mode: Number(st.mode), size: Number(st.size), digest: fileDigest(path, rel, st) };
    }
    if (st.isDirectory()) {
      const mode = Number(st.mode);
      if ((mode & 0o700) !== 0o700) chmodSync(path, mode | 0o700);
      const children: [string, Node][] = readdirSync(path)
        .sort()
        .map((name) => [name, visit(join(path, name), rel === "" ? name : join(rel, name))]);
      return { kind: "dir", path, mode, children };
    }
    throw new SpecialFileError(rel === "" ? "." : rel, Number(st.mode));
  };

  const top = visit(root, "");
  // Wait for every digest (workers and the Speculator's), then fold the tree and put it in canonical form.
  const pending: Promise<void>[] = [];
  const settle = (n: Node): void => {
    if (n.kind === "file" && n.digest instanceof Promise) {
      pending.push(
        n.digest.then((d) => {
          n.digest = d;
        }),
      );
    } else if (n.kind === "dir") n.children.forEach(([, c]) => settle(c));
  };
  settle(top);
  await Promise.all(pending);

  const h = createHash("sha256");
  const fold = (n: Node): void => {
    if (n.kind === "symlink") {
      h.update(symlinkHeader(n.target));
      lutimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    } else if (n.kind === "file") {
      const d = n.digest as Digests;
      if (d.sha256 !== null) digests.set(n.rel, d.sha256);
      h.update(fileRecord((n.mode & 0o111) !== 0, n.size, d.tree));
      chmodSync(n.path, canonicalMode(n.mode, false));
      utimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    } else {
      h.update("dir\0");
      for (const [name, c] of n.children) {
        h.update(`entry\0${name}\0`);
        fold(c);
      }
      h.update("end\0");
      chmodSync(n.path, 0o555);
      utimesSync(n.path, CANONICAL_MTIME, CANONICAL_MTIME);
    }
  };
  fold(top);
  return { hash: h.digest("hex"), files, bytes, rewritten, digests, reused: tally.reused };
}
