/**
 * The tools image of `mb render dockerfile --context`: a root file system holding the Debian packages a build declares
 * (and the engine's own step shell and base tools), with their dependency closure from dpkg's database, written as a
 * deterministic tar that a Dockerfile unpacks with `FROM scratch` + `ADD tools.tar /`, so the build needs no network
 * and no registry image. Everything is read from this machine: dpkg's status file and each package's file list.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { CANONICAL_MTIME } from "./tree-hash.js";
import { writeTar, type TarMember } from "./tools-image-tar.js";

const DPKG_STATUS = "/var/lib/dpkg/status";
const DPKG_INFO = "/var/lib/dpkg/info";

/** What the Dockerfile's steps always need: bash runs them, coreutils and findutils seal outputs as the engine does. */
export const IMAGE_BASE_PACKAGES = ["bash", "coreutils", "findutils"] as const;

/** Documentation the builds never read, left out of the image (as Debian's slim images do). */
const EXCLUDED = ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/"];

/** What of the host's /etc every step sees in the engine's sandbox (bwrap.ts), copied into the image. */
const ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/nsswitch.conf"];

/** One installed package of dpkg's database. */
export interface InstalledPackage {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
  /** Depends and Pre-Depends: each a list of alternatives. */
  readonly depends: readonly (readonly string[])[];
  readonly recommends: readonly (readonly string[])[];
  readonly provides: readonly string[];
}

/** A relation field (`a (>= 1) | b:any, c [amd64]`) as lists of alternative package names. */
export function parseRelations(field: string | undefined): string[][] {
  if (!field) return [];
  return field
    .split(",")
    .map((group) =>
      group
        .split("|")
        .map((alt) => alt.replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>/g, "").trim().replace(/:[a-z0-9-]+$/, ""))
        .filter((n) => n !== ""),
    )
    .filter((g) => g.length > 0);
}

/** The installed packages of a dpkg status file's text. */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const stanza of text.split(/\n\n+/)) {
    const fields: Record<string, string> = {};
    let key = "";
    for (const line of stanza.split("\n")) {
      if (/^\s/.test(line) && key) fields[key] += ` ${line.trim()}`;
      else {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields[(key = m[1]!)] = m[2]!;
      }
    }
    if (!fields.Package || !/^install ok installed$/.test(fields.Status ?? "")) continue;
    out.push({
      name: fields.Package,
      arch: fields.Architecture ?? "all",
      version: fields.Version ?? "",
      depends: [...parseRelations(fields["Pre-Depends"]), ...parseRelations(fields.Depends)],
      recommends: parseRelations(fields.Recommends),
      provides: parseRelations(fields.Provides).flat(),
    });
  }
  return out;
}

/** Installed packages by name (and by what they provide), the machine's own architecture first. */
export class DpkgDatabase {
  private readonly byName = new Map<string, InstalledPackage[]>();
  private readonly byProvides = new Map<string, InstalledPackage[]>();
  readonly nativeArch: string;

  constructor(packages: readonly InstalledPackage[]) {
    this.nativeArch = packages.find((p) => p.name === "dpkg")?.arch ?? "amd64";
    const rank = (p: InstalledPackage) => (p.arch === this.nativeArch ? 0 : p.arch === "all" ? 1 : 2);
    for (const p of [...packages].sort((a, b) => rank(a) - rank(b) || a.arch.localeCompare(b.arch))) {
      this.byName.set(p.name, [...(this.byName.get(p.name) ?? []), p]);
      for (const v of p.provides) this.byProvides.set(v, [...(this.byProvides.get(v) ?? []), p]);
    }
  }

  /** Every installed package. */
  all(): InstalledPackage[] {
    return [...this.byName.values()].flat();
  }

  /** The installed package a relation name means: the package itself, else one that provides it; null when none. */
  resolve(name: string): InstalledPackage | null {
    return this.byName.get(name)?.[0] ?? this.byProvides.get(name)?.[0] ?? null;
  }

  /**
   * The packages `roots` need: each root and the installed ones among the roots' own Recommends (gcc recommends the C
   * library's headers, which the engine's steps see on the host), with their Depends and Pre-Depends recursively (the
   * first installed alternative of each). A root that is not installed is exit 1 naming it.
   */
  closure(roots: readonly string[]): InstalledPackage[] {
    const seen = new Map<string, InstalledPackage>();
    const queue: InstalledPackage[] = [];
    const add = (p: InstalledPackage) => {
      const key = `${p.name}:${p.arch}`;
      if (!seen.has(key)) {
        seen.set(key, p);
        queue.push(p);
      }
    };
    for (const r of roots) {
      const p = this.resolve(r);
      if (!p) throw new MbError("tools-image.missing", `the tools image needs the Debian package '${r}', which is not installed on this machine`, { exitCode: ExitCode.problems, hint: `install it, e.g. \`apt-get install ${r}\`` });
      add(p);
    }
    for (const root of [...queue]) {
      for (const group of root.recommends) {
        const hit = group.map((n) => this.resolve(n)).find((x) => x !== null);
        if (hit) add(hit);
      }
    }
    while (queue.length > 0) {
      const p = queue.shift()!;
      for (const group of p.depends) {
        const hit = group.map((n) => this.resolve(n)).find((x) => x !== null);
        if (hit) add(hit);
      }
    }
    return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name) || a.arch.localeCompare(b.arch));
  }
}

/** Reads this machine's dpkg database. */
export function readDpkgDatabase(): DpkgDatabase {
  if (!existsSync(DPKG_STATUS)) throw new MbError("tools-image.no-dpkg", `the tools image is made of Debian packages, and this machine has no dpkg database (${DPKG_STATUS})`, { exitCode: ExitCode.problems });
  return new DpkgDatabase(parseDpkgStatus(readFileSync(DPKG_STATUS, "utf8")));
}

/** The files a package installed (`dpkg -L`), as listed. */
export function packageFiles(p: InstalledPackage): string[] {
  for (const f of [`${p.name}:${p.arch}.list`, `${p.name}.list`]) {
    const list = join(DPKG_INFO, f);
    if (existsSync(list)) return readFileSync(list, "utf8").split("\n").filter((l) => l.startsWith("/") && l !== "/.");
  }
  return [];
}

/** The installed package that lists `path` (or the file its links lead to) among its files, or null. */
export function packageOwning(path: string, db: DpkgDatabase): string | null {
  const wanted = new Set([path, safeReal(path)]);
  const base = `/${path.split("/").pop()}`;
  for (const p of db.all()) if (packageFiles(p).some((f) => f.endsWith(base) && (wanted.has(f) || wanted.has(safeReal(f))))) return p.name;
  return null;
}

function safeReal(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The members of the image for these files: each at its real location, with every directory link on the way. */
export function rootfsMembers(files: Iterable<string>, extra: readonly TarMember[]): TarMember[] {
  const members = new Map<string, TarMember>();
  const addDir = (dir: string) => {
    for (let d = dir; d !== "/" && !members.has(d.slice(1)); d = dirname(d)) {
      members.set(d.slice(1), { kind: "dir", name: d.slice(1), mode: lstatSync(d).mode & 0o7777 });
    }
  };
  const add = (path: string) => {
    if (path === "/" || EXCLUDED.some((e) => path.startsWith(e))) return;
    // A link among the path's directories (/bin -> usr/bin on merged-/usr systems) is a member too.
    for (let d = dirname(path); d !== "/"; d = dirname(d)) if (lstatSync(d, { throwIfNoEntry: false })?.isSymbolicLink()) add(d);
    let parent: string;
    try {
      parent = realpathSync(dirname(path));
    } catch {
      return; // listed, but gone
    }
    const real = join(parent, basename(path));
    const st = lstatSync(real, { throwIfNoEntry: false });
    if (!st || members.has(real.slice(1))) return;
    addDir(parent);
    const name = real.slice(1);
    if (st.isSymbolicLink()) members.set(name, { kind: "symlink", name, target: readlinkSync(real) });
    else if (st.isDirectory()) addDir(real);
    else if (st.isFile()) members.set(name, { kind: "file", name, mode: st.mode & 0o777, size: st.size, from: real });
  };
  for (const f of files) add(f);
  for (const f of ETC_FILES) {
    if (!existsSync(f)) continue;
    add(f);
    if (lstatSync(f).isDirectory()) for (const e of readdirSync(f)) add(join(f, e));
  }
  for (const m of extra) members.set(m.name, m);
  return [...members.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The files every build container has whatever its packages: root and nobody, localhost, and /tmp. */
function generatedMembers(): TarMember[] {
  const data = (name: string, text: string): TarMember => ({ kind: "data", name, mode: 0o644, data: Buffer.from(text) });
  return [
    { kind: "dir", name: "etc", mode: 0o755 },
    data("etc/passwd", "root:x:0:0:root:/homeless-shelter:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n"),
    data("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    data("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"),
    { kind: "dir", name: "tmp", mode: 0o1777 },
  ];
}

/** What a tools image holds: its packages (name, architecture, version) and its size. */
export interface ToolsImage {
  readonly packages: readonly { readonly name: string; readonly arch: string; readonly version: string }[];
  readonly members: number;
  readonly bytes: number;
}

/** The packages of the tools image of these Debian packages: with the base packages, their closure (exit 1 naming a missing one). */
export function toolsImagePackages(packages: readonly string[], db: DpkgDatabase): InstalledPackage[] {
  return db.closure([...new Set([...IMAGE_BASE_PACKAGES, ...packages])].sort());
}

/** Writes the tools image of these installed packages (a `toolsImagePackages` closure) to `file`, a deterministic tar. */
export function writeToolsImage(file: string, closure: readonly InstalledPackage[]): ToolsImage {
  const files = new Set<string>();
  for (const p of closure) for (const f of packageFiles(p)) files.add(f);
  const members = rootfsMembers([...files].sort(), generatedMembers());
  const { bytes } = writeTar(file, members, CANONICAL_MTIME);
  return { packages: closure.map((p) => ({ name: p.name, arch: p.arch, version: p.version })), members: members.length, bytes };
}
