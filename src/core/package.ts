/** What the views may know of a package reference without touching the machine: its name and, once resolved, its path. */
import type { PackageRef } from "./spec.js";

/** The package's display name and its path (null until resolved). */
export interface PackageInfo {
  readonly packageName: string;
  readonly outPath: string | null;
}

/** Strips a store hash prefix (`<32 chars>-name` -> `name`) from a path's basename. */
export function storeName(path: string): string {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? path;
  return /^[0-9a-z]{32}-/.test(base) ? base.slice(33) : base;
}

/** Store entry names are `<hash>-<name>`; names keep to a safe character set. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9+._?=-]/g, "-").replace(/^\.+/, "");
  return cleaned === "" ? "output" : cleaned;
}

/** Pure summary of a package reference, as deps, plan and describe use it. */
export function packageInfo(ref: PackageRef): PackageInfo {
  if (typeof ref === "string") return ref.startsWith("/") ? { packageName: storeName(ref), outPath: ref } : { packageName: ref, outPath: null };
  switch (ref._con) {
    case "hostPackage":
      return { packageName: ref.name, outPath: null };
    case "pathPackage":
      return { packageName: ref.name ?? storeName(ref.path), outPath: null };
    case "builderPackage":
      return { packageName: ref.spec.name, outPath: null };
    case "resolvedPackage":
      return { packageName: ref.packageName, outPath: ref.outPath };
  }
}

/** True for any package reference object (as opposed to text). */
export function isPackageObject(value: unknown): value is Exclude<PackageRef, string> {
  if (value === null || typeof value !== "object") return false;
  const con = (value as { _con?: unknown })._con;
  return con === "hostPackage" || con === "pathPackage" || con === "builderPackage" || con === "resolvedPackage";
}
