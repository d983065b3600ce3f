/**
 * Package resolution: the one place before a build that reads the machine. It turns every package reference in a
 * program into a resolved package, computes the store path of each builder output from its description, and
 * returns the DAG of builds to realize (dependencies first).
 */
import { existsSync } from "node:fs";
import { basename, isAbsolute, resolve as resolvePath } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { storeHash } from "../core/hash.js";
import { mapPackages } from "../core/operations.js";
import type { BuildPlan } from "../core/plan.js";
import type { ResolvedPackage } from "../core/records.js";
import type { PackageRef } from "../core/spec.js";
import { compile } from "../program/compile.js";
import { fingerprint, safeName, storePathFromFingerprint, type FingerprintContext } from "../program/fingerprint.js";
import { fromSpec, unsafeProgram, type Program } from "../program/program.js";
import { BASE_TOOLS_PACKAGE, lookupBaseTools, NO_BASE_TOOLS, type BaseTools } from "./base-tools.js";
import type { SandboxMode } from "./bwrap.js";
import { lookupHost } from "./host.js";
import { cachedTreeIdentity } from "./identity.js";
import { hostSystem } from "./system.js";

export { hostSystem };

/** How resolution behaves. */
export interface ResolveOptions {
  readonly storeDir: string;
  readonly system: string;
  readonly sourceDateEpoch: number;
  /** Strict (building): a missing package or input is an error. Lenient (views): it stays unresolved, with a warning. */
  readonly strict: boolean;
  readonly warn?: (message: string) => void;
  /** How steps will be confined (part of every store path); default `bwrap`. */
  readonly sandbox?: SandboxMode;
  /** The directory relative local sources are resolved against: the builder file's; default the working directory. */
  readonly baseDir?: string;
}

/** A directory to import into the store by content. */
export interface PathImport {
  readonly source: string;
  readonly storePath: string;
  readonly contentHash: string;
  /** The tree stamp the hash was taken under; while the source still has it, a plain copy needs no re-hashing. */
  readonly stamp: string | null;
}

/** One build of the DAG: a resolved program, its plan and its store path. */
export interface ResolvedBuild {
  readonly name: string;
  readonly program: Program;
  readonly plan: BuildPlan;
  readonly storePath: string;
  readonly fingerprint: Record<string, unknown>;
  readonly inputHashes: Record<string, string>;
  /** Store paths of the builds this one needs first. */
  readonly needs: string[];
  /** The builds those store paths name (the same order): what the build info of this build describes. */
  readonly deps: readonly ResolvedBuild[];
  /** Directories this build needs imported into the store (path packages and local inputs). */
  readonly imports: PathImport[];
  /** The value of each `pathMap_*` variable while building: the store copy of the local input. */
  readonly inputStore: Record<string, string>;
  /** Store entries this build reads that are neither built nor imported by it (store paths given as inputs). */
  readonly storeInputs: string[];
  /** The base tools the engine puts on PATH (none when the plan has no writeFile or copyPath step). */
  readonly baseTools: BaseTools;
  /** False when some package or input could not be resolved (lenient mode only). */
  readonly complete: boolean;
}

/** Everything a build's entry keeps alive, which is also all of the store its steps may read. */
export function referencesOf(build: ResolvedBuild): string[] {
  return [...new Set([...build.needs, ...build.imports.map((i) => i.storePath), ...build.storeInputs, ...build.plan.runtimeArtifacts.map((a) => a.storePath)])].sort();
}

/** The root build and every build it needs, dependencies first. */
export interface Resolution {
  readonly root: ResolvedBuild;
  readonly builds: ResolvedBuild[];
}

interface BuildState {
  complete: boolean;
  /** Entries of this store that the program names by path. */
  storeRefs: string[];
}

class Resolver {
  private readonly host = new Map<string, ResolvedPackage | null>();
  private readonly builders = new Map<string, ResolvedBuild>();
  private readonly order: ResolvedBuild[] = [];
  private base: BaseTools | null | undefined;

  constructor(private readonly opts: ResolveOptions) {}

  private fail(code: string, message: string, hint?: string): never {
    throw new MbError(code, message, { exitCode: ExitCode.problems, hint });
  }

  private hostPackage(name: string, where: string): ResolvedPackage | null {
    if (!this.host.has(name)) {
      const found = lookupHost(name);
      if (name === BASE_TOOLS_PACKAGE) this.base ??= lookupBaseTools(found); // coreutils is looked up once, not again for the base tools
      this.host.set(
        name,
        found && {
          _con: "resolvedPackage",
          name,
          packageName: found.packageName,
          origin: "host",
          outPath: "/usr",
          version: found.version,
          executables: found.executables,
          contentHash: found.contentHash,
        },
      );
    }
    const hit = this.host.get(name) ?? null;
    if (!hit) {
      const msg = `package '${name}' (${where}) is not on this machine: no Debian package '${name}' is installed and no executable '${name}' is on PATH`;
      const hint = `install it, e.g. \`apt-get install ${name}\``;
      if (this.opts.strict) this.fail("package.missing", msg, hint);
      this.opts.warn?.(`${msg}; ${hint}`);
    }
    return hit;
  }

  private pathPackage(path: string, name: string | undefined, where: string, imports: PathImport[]): ResolvedPackage | null {
    const abs = resolvePath(this.opts.baseDir ?? process.cwd(), path);
    if (!existsSync(abs)) {
      const msg = `path package '${path}' (${where}) does not exist`;
      if (this.opts.strict) this.fail("package.missing", msg);
      this.opts.warn?.(msg);
      return null;
    }
    const { hash: contentHash, stamp } = cachedTreeIdentity(abs);
    const storePath = importPathOf(this.opts.storeDir, contentHash, name ?? basename(abs));
    imports.push({ source: abs, storePath, contentHash, stamp });
    return { _con: "resolvedPackage", name: name ?? basename(abs), packageName: name ?? basename(abs), origin: "path", outPath: storePath, version: null, executables: {}, contentHash };
  }

  /** Resolves one package reference; null when lenient and it cannot be found. */
  private pkg(ref: PackageRef, where: string, needs: string[], imports: PathImport[], state: BuildState): PackageRef {
    let out: ResolvedPackage | null;
    if (typeof ref === "string") {
      const entry = this.storeEntryOf(ref);
      if (entry !== null) state.storeRefs.push(entry);
      if (ref.startsWith("/")) return { _con: "resolvedPackage", name: basename(ref), packageName: basename(ref), origin: "store", outPath: ref, version: null, executables: {}, contentHash: null };
      out = this.hostPackage(ref, where);
    } else {
      switch (ref._con) {
        case "resolvedPackage": // a store package (a pinned registry base, src/oci/base/lock.ts) is read by the build
          if (ref.origin === "store") state.storeRefs.push(...[this.storeEntryOf(ref.outPath)].filter((e) => e !== null));
          return ref;
        case "hostPackage":
          out = this.hostPackage(ref.name, where);
          break;
        case "pathPackage":
          out = this.pathPackage(ref.path, ref.name, where, imports);
          break;
        case "builderPackage": {
          const build = this.build(fromSpec(ref.spec), where);
          needs.push(build.storePath);
          if (!build.complete) state.complete = false;
          out = {
            _con: "resolvedPackage",
            name: ref.spec.name,
            packageName: build.plan.name,
            origin: "builder",
            outPath: build.storePath,
            version: null,
            executables: {},
            contentHash: build.storePath.slice(this.opts.storeDir.length + 1, this.opts.storeDir.length + 33),
          };
          break;
        }
      }
    }
    if (!out) {
      state.complete = false;
      return ref;
    }
    return out;
  }

  /** Resolves every package in a program, computes its plan and store path, and records it in the DAG. */
  build(program: Program, where = "builder"): ResolvedBuild {
    const needs: string[] = [];
    const imports: PathImport[] = [];
    const state: BuildState = { complete: true, storeRefs: [] };
    const ops = program.operations.map((op, i) => {
      const at = `${where}, operation ${i}${"name" in op ? ` '${op.name}'` : ""}`;
      return anchorSource(mapPackages(op, (ref) => this.pkg(ref, at, needs, imports, state)), this.opts.baseDir ?? process.cwd());
    });
    const resolved = unsafeProgram(ops);
    const plan = compile(resolved, { storeDir: this.opts.storeDir });
    const inputHashes: Record<string, string> = {};
    const inputStore: Record<string, string> = {};
    const storeInputs: string[] = [...state.storeRefs];
    for (const [key, path] of Object.entries(plan.pathMap)) {
      const entry = this.storeEntryOf(path);
      if (entry !== null) {
        // A store path is a package reference, never a local path to import: its name already says what it holds.
        inputHashes[path] = `store:${path}`;
        inputStore[key] = path;
        storeInputs.push(entry);
        continue;
      }
      if (!existsSync(path)) {
        const msg = `local input '${path}' of '${plan.name}' does not exist`;
        if (this.opts.strict) this.fail("input.missing", msg);
        this.opts.warn?.(msg);
        state.complete = false;
        continue;
      }
      const { hash: contentHash, stamp } = cachedTreeIdentity(path);
      inputHashes[path] = contentHash;
      const storePath = importPathOf(this.opts.storeDir, contentHash, basename(path));
      inputStore[key] = storePath;
      if (!imports.some((i) => i.storePath === storePath)) imports.push({ source: path, storePath, contentHash, stamp });
    }
    const needsBase = plan.steps.some((s) => s._con !== "runStep");
    const baseTools = needsBase ? this.baseTools(state) : NO_BASE_TOOLS;
    const ctx: FingerprintContext = {
      storeDir: this.opts.storeDir,
      system: this.opts.system,
      sourceDateEpoch: this.opts.sourceDateEpoch,
      inputHashes,
      sandbox: this.opts.sandbox ?? "bwrap",
      baseTools: baseTools.identity,
    };
    const fp = fingerprint(plan, ctx);
    const storePath = storePathFromFingerprint(plan.name, fp, ctx.storeDir);
    const existing = this.builders.get(storePath);
    if (existing) return existing;
    const build: ResolvedBuild = {
      name: plan.name,
      program: resolved,
      plan,
      storePath,
      fingerprint: fp,
      inputHashes,
      needs: [...new Set(needs)],
      deps: [...new Set(needs)].map((n) => this.builders.get(n)!),
      imports,
      inputStore,
      storeInputs: [...new Set(storeInputs)],
      baseTools,
      complete: state.complete,
    };
    this.builders.set(storePath, build);
    this.order.push(build);
    return build;
  }

  /** The base tools, looked up once; their package missing is a missing package. */
  private baseTools(state: BuildState): BaseTools {
    this.base ??= lookupBaseTools();
    if (this.base) return this.base;
    const msg = `package '${BASE_TOOLS_PACKAGE}' (the engine's base tools for writeFile and copyPath steps) is not on this machine`;
    if (this.opts.strict) this.fail("package.missing", msg, `install it, e.g. \`apt-get install ${BASE_TOOLS_PACKAGE}\``);
    this.opts.warn?.(msg);
    state.complete = false;
    return NO_BASE_TOOLS;
  }

  /** The store entry a path lies in (the path itself or an ancestor directly under the store), or null. */
  private storeEntryOf(path: string): string | null {
    const prefix = `${this.opts.storeDir}/`;
    if (!path.startsWith(prefix)) return null;
    const base = path.slice(prefix.length).split("/")[0]!;
    return /^[0-9a-z]{32}-/.test(base) ? prefix + base : null;
  }

  get builds(): ResolvedBuild[] {
    return this.order;
  }
}

/** Resolves a program and every builder it depends on. */
export function resolveProgram(program: Program, opts: ResolveOptions): Resolution {
  const r = new Resolver(opts);
  const root = r.build(program);
  return { root, builds: r.builds };
}

/**
 * A local source with a relative path, made absolute against `baseDir` (the builder file's directory), so it is
 * imported into the store and hashed like any other; never resolved against the build directory.
 */
function anchorSource<O extends Program["operations"][number]>(op: O, baseDir: string): O {
  if ((op._con !== "copyPath" && op._con !== "readSource") || op.source._con !== "localSource" || isAbsolute(op.source.path)) return op;
  return { ...op, source: { ...op.source, path: resolvePath(baseDir, op.source.path) } };
}

/** The store path a directory or file is imported at: named by its content hash and its base name. */
export function importPathOf(storeDir: string, contentHash: string, name: string): string {
  return `${storeDir}/${storeHash(`path:${contentHash}`)}-${safeName(name)}`;
}
