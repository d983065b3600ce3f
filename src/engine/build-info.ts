/**
 * The build info of a build (src/core/build-info.ts): written into its build directory and named by `$MB_BUILD_INFO`
 * for builds whose steps name that variable (the attestation step of oci-image), so that a step can describe how its
 * output was made. Every build else keeps exactly its environment. Deterministic: no times, no host paths of inputs.
 */
import { BUILD_INFO_VAR } from "../core/build-info-var.js";
import type { BuildInfo, BuildInfoBuild, BuildInfoTool } from "../core/build-info.js";
import type { BuildPlan } from "../core/plan.js";
import { packageInfo, storeName } from "../core/package.js";
import { planViewOf } from "../views/plan-view.js";
import { dpkgArchitecture } from "./host.js";
import type { ResolvedBuild } from "./resolve.js";
import type { Store } from "./store.js";

/** True when some step (as rendered: `planViewOf(plan).steps`) names `$MB_BUILD_INFO`: only such builds are given it. */
export function wantsBuildInfo(steps: readonly { readonly shell: string }[]): boolean {
  return steps.some((s) => s.shell.includes(BUILD_INFO_VAR));
}

function toolsOf(plan: BuildPlan): BuildInfoTool[] {
  return plan.tools.map((t) => {
    const p = t.package;
    const r = typeof p === "object" && p._con === "resolvedPackage" ? p : null;
    const deb = r !== null && r.origin === "host" && r.version !== null;
    return {
      name: t.name,
      package: packageInfo(p).packageName,
      origin: r?.origin ?? "unresolved",
      version: r?.version ?? null,
      arch: deb ? dpkgArchitecture(r.packageName) : null,
      outPath: r?.outPath ?? null,
      contentHash: r?.contentHash ?? null,
    };
  });
}

function factsOf(b: ResolvedBuild, outputHash: string | null): BuildInfoBuild {
  return {
    name: b.name,
    storePath: b.storePath,
    builder: b.plan.builder,
    outputHash,
    tools: toolsOf(b.plan),
    imports: b.imports.map((i) => ({ name: storeName(i.storePath), storePath: i.storePath, contentHash: i.contentHash })).sort((x, y) => (x.storePath < y.storePath ? -1 : 1)),
    needs: [...b.needs].sort(),
    steps: planViewOf(b.plan).steps.map((s) => ({ name: s.name, kind: s.con, shell: s.shell })),
  };
}

/** The build info of `build`: its own facts and those of every build it needs (already in `store`), dependencies first. */
export function buildInfoOf(build: ResolvedBuild, store: Store): BuildInfo {
  const closure: BuildInfoBuild[] = [];
  const seen = new Set<string>();
  const visit = (b: ResolvedBuild): void => {
    for (const d of b.deps) {
      if (seen.has(d.storePath)) continue;
      seen.add(d.storePath);
      visit(d);
      const e = store.entry(d.storePath);
      closure.push(factsOf(d, (e && store.readMeta(e)?.outputHash) ?? null));
    }
  };
  visit(build);
  const fp = build.fingerprint;
  return {
    version: 1,
    system: String(fp.system),
    sourceDateEpoch: Number(fp.sourceDateEpoch),
    storeDir: String(fp.storeDir),
    sandbox: String(fp.sandbox),
    build: factsOf(build, null),
    closure,
  };
}
