// Helpers of the injection attacks (test/security/injection.test.ts, property.test.ts): JSON specs on disk, a
// Dockerfile reader that follows the Dockerfile grammar (instructions, `\` continuations, heredocs, ENV's word
// lexer), and a podman that builds in a throwaway storage under a temporary directory.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A tool of the host's bash. */
export const BASH_TOOL = { _con: "MetaBuilderTool", name: "bash", package: { _con: "hostPackage", name: "bash" } } as const;

/** A JSON builder spec around `operations`. */
export function specOf(name: string, operations: unknown[]): Record<string, unknown> {
  return { _con: "MetaBuilderSpec", name, parameters: [], inputs: [], dependencies: [], tools: [], operations, outputs: [], evidence: [] };
}

/** Writes a spec as `<dir>/<file>` and returns its path. */
export function writeSpec(dir: string, spec: Record<string, unknown>, file = "spec.json"): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(spec, null, 2));
  return path;
}

/** A declared service and its unit, named `name`. */
export function serviceOps(name: string): unknown[] {
  return [
    { _con: "declareService", service: { _con: "MetaBuilderService", name, package: { _con: "hostPackage", name: "bash" } } },
    { _con: "materializeUnit", name },
  ];
}

/** One Dockerfile instruction: its keyword, the rest of its (joined) line and, for a heredoc, the body. */
export interface Instruction {
  readonly keyword: string;
  readonly rest: string;
  readonly heredoc?: string;
}

/** Reads a Dockerfile as the Dockerfile parser does: comments and blank lines skipped, `\` continues, heredocs taken whole. */
export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split("\n");
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/\r$/, "");
    const m = /^\s*([A-Za-z]+)(?:\s+(.*))?$/s.exec(line);
    if (!m) throw new Error(`not an instruction: ${JSON.stringify(line)}`);
    const keyword = m[1]!.toUpperCase();
    const rest = m[2] ?? "";
    const h = keyword === "RUN" ? /^<<-?(['"]?)([A-Za-z0-9_]+)\1$/.exec(rest) : null;
    if (!h) {
      out.push({ keyword, rest });
      continue;
    }
    const end = lines.indexOf(h[2]!, i + 1);
    if (end < 0) throw new Error(`heredoc ${h[2]} is never closed`);
    out.push({ keyword, rest, heredoc: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return out;
}

/**
 * The words of an ENV/ARG line as Docker's word lexer splits them: blanks split, quotes and `\` escapes removed.
 * With `split` false (a word of a JSON-form instruction), blanks are kept inside the one word.
 */
export function dockerWords(rest: string, split = true): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (split && /\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "\\" && i + 1 < rest.length) word = (word ?? "") + rest[++i];
    else if (c === "'") {
      const end = rest.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in ${JSON.stringify(rest)}`);
      word = (word ?? "") + rest.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= "";
      for (i++; i < rest.length && rest[i] !== '"'; i++) word += rest[i] === "\\" && /[\\"$]/.test(rest[i + 1] ?? "") ? rest[++i] : rest[i];
      if (i >= rest.length) throw new Error(`unterminated " in ${JSON.stringify(rest)}`);
    } else word = (word ?? "") + c;
  }
  if (word !== null) words.push(word);
  return words;
}

/** The variables an `ENV` instruction sets, as `[name, value]` pairs (the `k=v k2=v2` form). */
export function envPairs(rest: string): [string, string][] {
  return dockerWords(rest).map((w) => {
    const eq = w.indexOf("=");
    return eq < 0 ? [w, ""] : [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** A podman whose storage, configuration and home all live under `dir` (as root: `--root`/`--runroot`, vfs). */
export function podmanIn(dir: string): (args: readonly string[], input?: string) => { status: number; stdout: string; stderr: string } {
  for (const d of ["root", "run", "home", "config", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  const env = { PATH: process.env.PATH, HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "config"), TMPDIR: join(dir, "tmp") };
  return (args, input) => {
    const r = spawnSync("podman", ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs", "--events-backend", "none", ...args], {
      encoding: "utf8",
      env,
      input,
      timeout: 300_000,
    });
    if (r.error) throw new Error(`podman (needed by this test) could not run: ${r.error.message}`);
    return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  };
}

/** Imports a busybox-only image as `localhost/mb-busybox` (busybox-static's /bin/busybox and its applet links). */
export function importBusyboxBase(podman: ReturnType<typeof podmanIn>, dir: string): string {
  const rootfs = join(dir, "busybox-rootfs");
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  const made = spawnSync("sh", ["-c", `cp /bin/busybox bin/busybox && for a in sh mkdir touch cat ls cp true env command; do ln -sf busybox bin/$a; done && tar -cf ../busybox.tar .`], { cwd: rootfs, encoding: "utf8" });
  if (made.status !== 0) throw new Error(`busybox-static (/bin/busybox, needed by this test) is missing: ${made.stderr}`);
  const r = podman(["import", "-q", join(dir, "busybox.tar"), "localhost/mb-busybox"]);
  if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
  return "localhost/mb-busybox";
}

/** Builds `dockerfile` over `context` on `base`; returns the build's result and, when it built, the image's env and files. */
export function podmanBuild(podman: ReturnType<typeof podmanIn>, context: string, dockerfile: string, base: string, tag: string) {
  writeFileSync(join(context, "Dockerfile"), dockerfile);
  const built = podman(["build", "-q", "--build-arg", `base=${base}`, "-t", tag, context]);
  if (built.status !== 0) return { built, env: [] as string[], files: [] as string[] };
  const env = JSON.parse(podman(["image", "inspect", tag, "--format", "{{json .Config.Env}}"]).stdout) as string[];
  const id = podman(["create", tag, "/bin/true"]).stdout.trim();
  const tarPath = join(context, "..", `${tag.replace(/\W/g, "_")}.tar`);
  podman(["export", "-o", tarPath, id]);
  podman(["rm", id]);
  const tar = spawnSync("tar", ["--quoting-style=literal", "-tf", tarPath], { encoding: "utf8", env: { PATH: process.env.PATH, LC_ALL: "C.UTF-8" } });
  return { built, env, files: tar.stdout.split("\n").filter((l) => l !== "") };
}
