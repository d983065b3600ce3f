/**
 * The Nix backend (`mb render nix`): a Nix expression of plain `derivation`s, one per builder (the root last, each
 * dependency an input through an attribute whose value is that derivation), for `nix-build` with no nixpkgs.
 *
 * Every builder runs bash (the declared `bash` tool, else /bin/bash) on a script that does what the engine does: a
 * PATH of exactly the declared tools' executables (and the engine's base tools), linked into a directory of the build;
 * a private TMPDIR; a fresh working directory; SOURCE_DATE_EPOCH and LC_ALL=C (attributes); HOME, `out` and the
 * output's canonical form are Nix's own. Host tools are host paths: each derivation lists the host directories it
 * reads in `__impureHostDeps`, which a sandboxed Linux builder binds when its nix.conf allows them
 * (`allowed-impure-host-deps`); an unsandboxed builder reads them as they are. Imported inputs are copied into the
 * Nix store at evaluation (`builtins.path`) from where they lay when the expression was rendered; a path package is
 * then copied into the build directory under its mb store entry's name, so a tool that records it records the same.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { safeName } from "../core/package.js";
import type { Tool } from "../core/spec.js";
import { comment, escapeShellArg, oneLine } from "../program/quote.js";
import { assertShellSupported } from "./shell-standalone.js";
import { artifactComments, markedSteps, relocatedLibraryPath, relocatedWord, relocationOf, reportFunction, type RelocatedInput, type Relocation, type StandaloneBuild, type StandaloneGraph } from "./shell-graph.js";

/** The host directories every derivation may read (its tools, their libraries, Debian's alternatives links). */
export const NIX_HOST_PATHS = ["/bin", "/etc/alternatives", "/lib", "/lib64", "/sbin", "/usr"] as const;

const NIX_ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', $: "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A Nix string literal holding exactly `s` (`\`, `"`, `$` and line breaks escaped); a NUL byte is exit 2. */
export function nixString(s: string): string {
  if (s.includes("\0")) throw new MbError("backend.nix", `nix backend: ${JSON.stringify(s)} holds a NUL byte, which a Nix string cannot carry`, { exitCode: ExitCode.usage });
  return `"${s.replace(/[\\"$\n\r\t]/g, (c) => NIX_ESCAPES[c]!)}"`;
}

/** `builtins.path` of a host path: copied into the Nix store when the expression is evaluated. */
function importOf(source: string, name: string): string {
  return `builtins.path { path = /. + ${nixString(source)}; name = ${nixString(safeName(name))}; }`;
}

/** A Nix string of `s` with each relocated store path interpolated from its binding (`${mb_dep_0}`). */
function relocatedNix(s: string, relocation: Relocation): string {
  let text = nixString(s);
  for (const [path, variable] of [...relocation.entries()].sort((a, b) => b[0].length - a[0].length)) text = text.split(path).join(`\${${variable}}`);
  return text;
}

/** The executables on a build's PATH (name -> host path, the first tool giving a name wins, as in the engine) and the store tools linked by glob. */
function farmOf(b: StandaloneBuild): { host: [string, string][]; globbed: string[] } {
  const host = new Map<string, string>();
  const globbed: string[] = [];
  const add = (name: string, path: string) => {
    if (!host.has(name) && !name.includes("/") && !name.startsWith(".")) host.set(name, path);
  };
  for (const t of b.plan.tools as Tool[]) {
    const pkg = t.package;
    if (typeof pkg !== "object" || pkg._con !== "resolvedPackage") continue;
    if (pkg.origin === "host") for (const [name, path] of Object.entries(pkg.executables)) add(name, path);
    else if (pkg.outPath) globbed.push(pkg.outPath);
  }
  for (const [name, path] of Object.entries(b.baseTools)) add(name, path);
  return { host: [...host.entries()], globbed };
}

/** The builder script of one derivation. */
function builderScript(b: StandaloneBuild, relocation: Relocation, inputs: readonly RelocatedInput[], coreutils: Readonly<Record<string, string>>): string {
  const { host, globbed } = farmOf(b);
  const mkdir = escapeShellArg(coreutils.mkdir ?? "/bin/mkdir");
  const ln = escapeShellArg(coreutils.ln ?? "/bin/ln");
  const cp = escapeShellArg(coreutils.cp ?? "/bin/cp");
  const lines = ["set -euo pipefail", `mb_name=${escapeShellArg(oneLine(b.name))}`, "mb_step='(setup)'", reportFunction(""), "trap mb_report EXIT"];
  lines.push('mb_top="$PWD"', `${mkdir} "$mb_top/bin" "$mb_top/tmp" "$mb_top/build"`);
  for (const [name, path] of host) {
    lines.push(`[ -x ${escapeShellArg(path)} ] || { echo ${escapeShellArg(`mb: ${oneLine(b.name)}: missing host tool ${path}`)} >&2; exit 1; }`);
    lines.push(`${ln} -s ${escapeShellArg(path)} "$mb_top/bin/"${escapeShellArg(name)}`);
  }
  for (const dir of globbed) {
    const where = relocatedWord(dir, relocation, false);
    lines.push(`for mb_exe in ${where}/bin/*; do [ -x "$mb_exe" ] && { [ -L "$mb_top/bin/\${mb_exe##*/}" ] || ${ln} -s "$mb_exe" "$mb_top/bin/\${mb_exe##*/}"; }; done`);
  }
  // Each imported input is copied under mb's store entry name (a compiler records the name of the file it compiled).
  const used = JSON.stringify(b.plan);
  const copies = inputs.filter(({ input }) => used.includes(input.storePath));
  if (copies.length > 0) lines.push(`${mkdir} "$mb_top/inputs"`);
  for (const { variable, input } of copies) {
    const at = `"$mb_top/inputs/"${escapeShellArg(input.storePath.slice(input.storePath.lastIndexOf("/") + 1))}`;
    lines.push(`${cp} -R "$${variable}" ${at}`, `${variable}=${at}`);
  }
  lines.push('export PATH="$mb_top/bin"', 'export TMPDIR="$mb_top/tmp"', 'cd "$mb_top/build"');
  const ld = relocatedLibraryPath(b.plan, relocation);
  if (ld) lines.push(ld);
  lines.push(`${mkdir} -p "$out"`, ...markedSteps(b.plan, relocation), "mb_step='(done)'");
  return lines.join("\n") + "\n";
}

const indent = (s: string, by: string) => s.split("\n").map((l) => (l ? by + l : l)).join("\n");

/** Renders the graph as one Nix expression whose value is the root build's derivation; throws (exit 1) when it cannot. */
export function renderNix(graph: StandaloneGraph): string {
  assertShellSupported(graph, "nix");
  const missing = graph.builds.filter((b) => !b.complete).map((b) => b.name);
  if (missing.length > 0) {
    throw new MbError("backend.unresolved", `nix backend: cannot render '${oneLine(missing.join("', '"))}': some packages or inputs are missing on this machine (see the warnings above)`, { exitCode: ExitCode.problems });
  }
  const { relocation, inputs } = relocationOf(graph);
  const root = graph.builds[graph.builds.length - 1]!;
  const lines = [comment(`mb render nix: ${root.name}, as plain derivations (no nixpkgs); build with nix-build.`)];
  lines.push(comment(`Host paths read by the builders (__impureHostDeps): ${NIX_HOST_PATHS.join(" ")}. A sandboxed builder needs`));
  lines.push(comment(`allowed-impure-host-deps = ${NIX_HOST_PATHS.join(" ")} in its nix.conf; an unsandboxed one (sandbox = false) reads them directly.`));
  lines.push("let");
  for (const { variable, input } of inputs) lines.push(`  ${variable} = ${importOf(input.source, input.name)};`);
  graph.builds.forEach((b, i) => {
    const binding = i === graph.builds.length - 1 ? "mb_root" : `mb_dep_${i}`;
    const name = b.storePath.slice(b.storePath.lastIndexOf("/") + 34) || safeName(b.name);
    const bash = farmOf(b).host.find(([n]) => n === "bash")?.[1] ?? "/bin/bash";
    const attrs = [`name = ${nixString(name)};`, `system = ${nixString(graph.system)};`, `builder = ${nixString(bash)};`];
    attrs.push(`args = [ "-c" ${nixString(builderScript(b, relocation, inputs, graph.coreutils))} ];`);
    attrs.push(`__impureHostDeps = [ ${NIX_HOST_PATHS.map(nixString).join(" ")} ];`);
    attrs.push(`SOURCE_DATE_EPOCH = ${nixString(String(graph.sourceDateEpoch))};`, `LC_ALL = "C";`);
    const used = JSON.stringify(b.plan);
    for (const [path, variable] of relocation) if (used.includes(path)) attrs.push(`${variable} = ${variable};`);
    for (const [k, v] of Object.entries(b.plan.pathMap)) {
      attrs.push(`${k} = ${b.localInputs.includes(v) ? importOf(v, v.slice(v.lastIndexOf("/") + 1)) : relocatedNix(v, relocation)};`);
    }
    lines.push(...artifactComments(b.plan, "expression").map((c) => `  ${c}`));
    lines.push(`  ${binding} = derivation {`, ...attrs.map((a) => indent(a, "    ")), "  };");
  });
  lines.push("in", "mb_root");
  return lines.join("\n") + "\n";
}
