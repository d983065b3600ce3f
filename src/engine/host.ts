/**
 * Host package lookups: executables on PATH and Debian packages (dpkg's database read directly, no processes).
 * Executables are identified by content through the persistent identity cache, and every file read is witnessed.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { createHash } from "node:crypto";
import { cachedHashFile, witness } from "./identity.js";

const DPKG_INFO = "/var/lib/dpkg/info";
const DPKG_STATUS = "/var/lib/dpkg/status";
const BIN_DIRS = ["/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/"];

/** A host package as found on this machine. */
export interface HostLookup {
  readonly packageName: string;
  readonly version: string | null;
  /** Executable name -> path. */
  readonly executables: Record<string, string>;
  /** sha256 over the executables' names, real paths and contents. */
  readonly contentHash: string;
  readonly via: "dpkg" | "path";
}

/** True for a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on PATH (each directory looked in is witnessed for the evaluation cache). */
export function which(name: string, path = process.env.PATH ?? ""): string | null {
  if (name.includes("/")) return null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    witness("dir", dir);
    if (isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return null;
}

function dpkgListFile(name: string): string | null {
  const plain = join(DPKG_INFO, `${name}.list`);
  if (existsSync(plain)) {
    witness("file", plain);
    return plain;
  }
  witness("dir", DPKG_INFO);
  try {
    const hit = readdirSync(DPKG_INFO).find((f) => f.startsWith(`${name}:`) && f.endsWith(".list"));
    if (hit) witness("file", join(DPKG_INFO, hit));
    return hit ? join(DPKG_INFO, hit) : null;
  } catch {
    return null;
  }
}

let statusText: string | undefined;
/** A field of an installed Debian package's stanza in dpkg's status file, or null. */
function dpkgField(name: string, field: "Version" | "Architecture"): string | null {
  witness("file", DPKG_STATUS);
  try {
    statusText ??= readFileSync(DPKG_STATUS, "utf8");
  } catch {
    return null;
  }
  let at = statusText.startsWith(`Package: ${name}\n`) ? 0 : statusText.indexOf(`\nPackage: ${name}\n`);
  while (at >= 0) {
    const end = statusText.indexOf("\n\n", at + 1);
    const stanza = statusText.slice(at, end < 0 ? undefined : end);
    if (/\nStatus: install ok installed/.test(stanza)) return new RegExp(`\\n${field}: (.+)`).exec(stanza)?.[1] ?? null;
    at = statusText.indexOf(`\nPackage: ${name}\n`, at + 1);
  }
  return null;
}

/** The installed version of a Debian package, or null. */
export function dpkgVersion(name: string): string | null {
  return dpkgField(name, "Version");
}

/** The architecture (`amd64`, `all`, ...) of the installed Debian package whose version `dpkgVersion` gives, or null. */
export function dpkgArchitecture(name: string): string | null {
  return dpkgField(name, "Architecture");
}

/** The executables a Debian package installs in bin and sbin directories, or null when it is not installed. */
export function dpkgExecutables(name: string): Record<string, string> | null {
  const list = dpkgListFile(name);
  if (!list || dpkgVersion(name) === null) return null;
  const out: Record<string, string> = {};
  for (const line of readFileSync(list, "utf8").split("\n")) {
    const dir = BIN_DIRS.find((d) => line.startsWith(d) && !line.slice(d.length).includes("/"));
    if (!dir) continue;
    const base = line.slice(dir.length);
    if (!base || out[base]) continue;
    try {
      const st = statSync(line);
      if (st.isFile() && st.mode & 0o111) out[base] = line;
    } catch {
      // listed but absent (diverted or removed)
    }
  }
  return out;
}

function identityHash(executables: Record<string, string>): string {
  const lines: string[] = [];
  for (const name of Object.keys(executables).sort()) {
    const path = executables[name]!;
    const h = cachedHashFile(path);
    lines.push(`${name}\0${realpathSync.native(path)}\0${h}`);
  }
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/**
 * Looks a host package up: every executable of the Debian package of that name, else the executable of that
 * name on PATH. Null when neither exists.
 */
export function lookupHost(name: string): HostLookup | null {
  const fromDpkg = dpkgExecutables(name);
  if (fromDpkg && Object.keys(fromDpkg).length > 0) {
    return { packageName: name, version: dpkgVersion(name), executables: fromDpkg, contentHash: identityHash(fromDpkg), via: "dpkg" };
  }
  const exe = which(name);
  if (exe) {
    const executables = { [name]: exe };
    return { packageName: name, version: null, executables, contentHash: identityHash(executables), via: "path" };
  }
  return null;
}
