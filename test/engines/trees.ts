// Output trees compared as the store sees them: every name, its kind, its mode (permission bits), a symlink's target
// and a file's bytes. A file (or link target) that differs only where it embeds its own output path is not a
// difference but an embedding: each tree was built at its own path (a store path, OUT, a Nix store path), and the
// comparison replaces one by the other before it compares, naming every file where that was needed.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** One entry of a tree. */
interface Entry {
  readonly kind: "file" | "dir" | "symlink";
  readonly mode: number;
  readonly target?: string;
  readonly bytes?: Buffer;
}

/** Every entry below `root` by relative path (the root itself is ""). */
export function readTree(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (path: string, rel: string) => {
    const st = lstatSync(path);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) out.set(rel, { kind: "symlink", mode: 0, target: readlinkSync(path) });
    else if (st.isDirectory()) {
      out.set(rel, { kind: "dir", mode });
      for (const name of readdirSync(path).sort()) visit(join(path, name), rel === "" ? name : `${rel}/${name}`);
    } else if (st.isFile()) out.set(rel, { kind: "file", mode, bytes: readFileSync(path) });
    else throw new Error(`${path} is neither a file, a directory nor a symbolic link`);
  };
  if (!existsSync(root)) throw new Error(`${root} does not exist`);
  visit(root, "");
  return out;
}

/** A path one tree's build saw where the other's saw another: its output, or an input, at their locations. */
export interface PathPair {
  readonly from: string;
  readonly to: string;
  /** What the path is, as the comparison reports it ("the output path", "the store"). */
  readonly label: string;
}

/** What comparing two trees found: real differences (each a line), and each file that embeds paths (`<file>: <labels>`). */
export interface TreeComparison {
  readonly differences: string[];
  readonly embedding: string[];
}

/** Replaces every occurrence of each pair's `from` (longest first) by its `to`. */
function relocate(buf: Buffer, pairs: readonly PathPair[]): Buffer {
  let out = buf;
  for (const p of [...pairs].sort((x, y) => y.from.length - x.from.length)) {
    const from = Buffer.from(p.from);
    const parts: Buffer[] = [];
    let at = 0;
    for (let i = out.indexOf(from); i >= 0; i = out.indexOf(from, at)) {
      parts.push(out.subarray(at, i), Buffer.from(p.to));
      at = i + from.length;
    }
    parts.push(out.subarray(at));
    out = Buffer.concat(parts);
  }
  return out;
}

/**
 * Compares tree `a` with tree `b`: names, kinds, modes, link targets and bytes. Where `a`'s bytes (or a link's target)
 * differ, they are compared again with each pair's path as `a`'s build saw it replaced by `b`'s (by default the
 * output path: `a` itself by `b`); a file equal so is an embedding, named with the paths it embeds.
 */
export function compareTrees(a: string, b: string, pairs: readonly PathPair[] = [{ from: a, to: b, label: "the output path" }]): TreeComparison {
  const ta = readTree(a);
  const tb = readTree(b);
  const differences: string[] = [];
  const embedding: string[] = [];
  const embeds = (rel: string, text: Buffer) => embedding.push(`${rel}: ${pairs.filter((p) => text.includes(Buffer.from(p.from))).map((p) => p.label).join(", ")}`);
  for (const rel of new Set([...ta.keys(), ...tb.keys()])) {
    const name = rel === "" ? "(the output itself)" : rel;
    const x = ta.get(rel);
    const y = tb.get(rel);
    if (!x || !y) {
      differences.push(`${name}: only in ${x ? a : b}`);
      continue;
    }
    if (x.kind !== y.kind) differences.push(`${name}: a ${x.kind} in one, a ${y.kind} in the other`);
    else if (x.mode !== y.mode) differences.push(`${name}: mode ${x.mode.toString(8)} against ${y.mode.toString(8)}`);
    else if (x.kind === "symlink" && x.target !== y.target) {
      if (relocate(Buffer.from(x.target!), pairs).toString() === y.target) embeds(rel, Buffer.from(x.target!));
      else differences.push(`${name}: link to ${x.target} against ${y.target}`);
    } else if (x.kind === "file" && !x.bytes!.equals(y.bytes!)) {
      if (relocate(x.bytes!, pairs).equals(y.bytes!)) embeds(rel, x.bytes!);
      else differences.push(`${name}: different bytes (${x.bytes!.length} against ${y.bytes!.length})`);
    }
  }
  return { differences, embedding: embedding.sort() };
}

/** The example folders under examples/ (each holding a builder.ts), discovered when the tests run. */
export function exampleNames(root: string): string[] {
  return readdirSync(join(root, "examples"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "examples", d.name, "builder.ts")))
    .map((d) => d.name)
    .sort();
}

/**
 * The files of each example that embed a path of their build (what the engines' trees differ by, and only by), and
 * which. An example missing here embeds none; a new one that does fails its equality test naming the file and path.
 */
export const EMBEDS: Readonly<Record<string, readonly string[]>> = {
  // The bin wrapper execs node on "$out/lib/<name>/server.js": the absolute path of the installed entry file.
  "node-service": ["bin/node-service-demo: the output path"],
};

