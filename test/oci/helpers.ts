// Shared by the OCI tests: required tools (missing ones fail the test, naming what to install), image builds through the
// shell backend (the plan, rendered and run by bash), and small fixtures.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fromSpec } from "../../src/program/program.js";
import { compile } from "../../src/program/compile.js";
import { renderShell } from "../../src/backends/shell.js";
import { findExecutable } from "../../src/oci/engine/layout.js";
import { busyboxRootfs } from "../../examples/oci-image/busybox-rootfs.js";
import { tempDirs } from "../support/temp-dirs.js";
import { MB, mb as runMb, mbBuild } from "../support/mb.js";

export { ROOT } from "../support/mb.js";

/** The path of a tool the test needs; a missing tool throws (the test fails) naming the Debian package to install. */
export function requireTool(name: string, debianPackage = name): string {
  const path = findExecutable(name);
  if (path === null) throw new Error(`required tool '${name}' is not installed: apt-get install ${debianPackage}`);
  return path;
}

const dirs = tempDirs("mb-oci");
/** A fresh temporary directory, removed by `removeTempDirs`. */
export const tempDir = dirs.tempDir;
/** Removes every temporary directory this test file made. */
export const removeTempDirs = dirs.removeAll;

/** The result of running a tool. */
export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program and returns its status and output (never throws on a non-zero status). */
export function ran(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Ran {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, ...opts });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a program and returns stdout; a non-zero status throws with stderr. */
export function must(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = ran(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

// Debian has no `coreutils` executable; the engine resolves the package to its executables, the plain script only
// checks `command -v coreutils`, so a stand-in satisfies it.
let shimDir: string | undefined;
function shim(): string {
  if (shimDir) return shimDir;
  shimDir = tempDir("shim");
  symlinkSync(requireTool("true", "coreutils"), join(shimDir, "coreutils"));
  return shimDir;
}

/** Renders a spec through the plan and the shell backend, as `mb render shell` does. */
export function shellScript(spec: unknown): string {
  return renderShell(compile(fromSpec(spec)));
}

/** Runs a spec's rendered shell script with `out`, `TMPDIR` and `SOURCE_DATE_EPOCH` set, as the engine would. */
export function runScript(spec: unknown, out: string, opts: { tmp?: string; epoch?: string; umask?: string } = {}): Ran {
  const tmp = opts.tmp ?? join(out, "..", "tmp");
  mkdirSync(tmp, { recursive: true });
  const script = join(tmp, "..", `build-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(script, shellScript(spec));
  return ran("bash", ["-c", `umask ${opts.umask ?? "022"}; exec bash "$0"`, script], {
    env: { PATH: `${shim()}:${process.env.PATH}`, out, TMPDIR: tmp, SOURCE_DATE_EPOCH: opts.epoch ?? "1", HOME: "/nonexistent", LC_ALL: "C" },
  });
}

/** Builds a spec into `<dir>/out` (temporaries in `<dir>/tmp`) and returns the output directory; a failure throws. */
export function buildWithScript(spec: unknown, dir = tempDir("build")): string {
  const out = join(dir, "out");
  const r = runScript(spec, out, { tmp: join(dir, "tmp") });
  if (r.status !== 0) throw new Error(`build of ${String((spec as { name?: string }).name)} failed (${r.status}):\n${r.stderr}`);
  return out;
}

let busyboxDir: string | undefined;
/** The busybox rootfs of the example (Debian's busybox-static and one link per applet), built once per test file. */
export function busyboxRoot(): string {
  if (busyboxDir) return busyboxDir;
  requireTool("busybox", "busybox-static");
  busyboxDir = buildWithScript(busyboxRootfs);
  return busyboxDir;
}

/** A small rootfs written from a map of path -> content (a string is a file, null a directory). */
export function treeOf(files: Record<string, string | null>, dir = join(tempDir("tree"), "root")): string {
  mkdirSync(dir, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    const full = join(dir, p);
    if (content === null) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, content);
    }
  }
  return dir;
}

/** Every regular file under `dir` (relative path -> bytes), for byte-for-byte comparisons. */
export function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.set(r, readFileSync(join(dir, r)));
    }
  };
  walk("");
  return out;
}

/** Parsed JSON of a file. */
export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** The index, manifest and config of a layout, parsed. */
export function documents(layout: string): { index: any; manifest: any; config: any; manifestDigest: string; configDigest: string } {
  const index = readJson(join(layout, "index.json"));
  const manifestDigest: string = index.manifests[0].digest;
  const manifest = readJson(join(layout, "blobs/sha256", manifestDigest.slice(7)));
  const configDigest: string = manifest.config.digest;
  const config = readJson(join(layout, "blobs/sha256", configDigest.slice(7)));
  return { index, manifest, config, manifestDigest, configDigest };
}

/** The bytes of a member of a tar archive, read with GNU tar. */
export function tarMember(archive: string, member: string): Buffer {
  return execFileSync("tar", ["-xOf", archive, member], { maxBuffer: 1 << 28 });
}

/** Gives a tree the modes of a store entry: files 0444 (0555 when executable), directories 0555. */
export function canonicalModes(dir: string): void {
  const walk = (p: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const full = join(p, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) chmodSync(full, statSync(full).mode & 0o111 ? 0o555 : 0o444);
    }
    chmodSync(p, 0o555);
  };
  walk(dir);
}

export { existsSync };

/**
 * A layout made by hand from layer tars (uncompressed), for inputs our builder would never write; `config` is the image
 * config's `config` object (WorkingDir, Env, ...) in `imageConfig`.
 */
export function handLayout(layers: readonly Buffer[], dir = join(tempDir("hand"), "layout"), imageConfig: Record<string, unknown> = {}): string {
  const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  mkdirSync(join(dir, "blobs/sha256"), { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    writeFileSync(join(dir, "blobs/sha256", sha(b)), b);
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const layerDescs = layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...put(l) }));
  const config = put(Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: imageConfig, rootfs: { type: "layers", diff_ids: layerDescs.map((d) => d.digest) } })));
  const manifest = put(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: layerDescs })),
  );
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest }] }));
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

/** A tar of exactly the named members of `dir` (no recursion), with GNU tar's extra flags. */
export function tarOf(dir: string, members: readonly string[], extra: readonly string[] = []): Buffer {
  return execFileSync("tar", ["--format=posix", "--no-recursion", ...extra, "-cf", "-", "-C", dir, ...members], { maxBuffer: 1 << 28 });
}

/** Runs `mb` with a store (MB_STORE), from the repository root, through the one harness; never throws on a non-zero status. */
export function mb(args: readonly string[], opts: { store: string; env?: NodeJS.ProcessEnv }): Ran {
  return runMb(args, opts);
}

export { mbBuild, MB };

/** Writes a spec as JSON into a temporary file for `mb build <file>.json`. */
export function specFile(spec: unknown): string {
  const file = join(tempDir("spec"), "spec.json");
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** The fixture module with the example's image made every other way. */
export const VARIANTS = "test/fixtures/oci/busybox-variants.ts";
