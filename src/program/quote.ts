/**
 * The one quoting module: every piece of text that reaches a shell script or a Dockerfile (shell words, `$out`
 * substitution, `#` comments, store and dependency paths, Dockerfile COPY/ENV words) is made here, so a name, a path
 * or a value can only ever be data.
 */
import { ExitCode, MbError } from "../core/errors.js";

const BARE = /^[A-Za-z0-9,._+:@%/-]+$/;

/** Shell-escapes a word: bare when made only of `[A-Za-z0-9,._+:@%/-]`, else single-quoted with `'` as `'\''`. */
export function escapeShellArg(s: string): string {
  return BARE.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `$out` or `${out}` as a whole word: never the start of a longer name (`$outdir`, `$output`). */
const OUT_WORD = /\$out(?![A-Za-z0-9_])|\$\{out\}/;

/** True when the text names `$out` (or `${out}`) as a whole word. */
export function mentionsOut(s: string): boolean {
  return OUT_WORD.test(s);
}

/** Replaces each whole-word `$out`/`${out}` of `s` by `value` (what a shell running the quoted text would see). */
export function expandOut(s: string, value: string): string {
  return s.split(new RegExp(OUT_WORD, "g")).join(value);
}

/** A shell word for `s` in which each whole-word `$out`/`${out}` becomes `"$out"`; everything else is literal. */
export function splitAroundOut(s: string): string {
  return s.split(new RegExp(OUT_WORD, "g")).map(escapeShellArg).join(`"$out"`);
}

/** Escapes text for the inside of a double-quoted shell string. */
export function dq(s: string): string {
  return s.replace(/[\\"$`]/g, (c) => `\\${c}`);
}

// Line breaks to a shell or the Dockerfile parser (\n, \r), the other C0/C1 controls and the Unicode line separators.
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g;

/** Text that stays on one line: backslash, line breaks and control characters written as `\\`, `\n`, `\r`, `\uXXXX`. */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_IN_LINE, (c) => {
    const named: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/** A `#` comment line (shell or Dockerfile) whose text cannot end the comment. */
export function comment(text: string): string {
  return `# ${oneLine(text)}`;
}

// One path segment of a store or dependency path: a conservative set, never `.` or `..`.
const SEGMENT = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._+@,=~-]+";
/** An absolute path made of safe segments (no `.`, `..`, empty segment, blank, quote, `$` or control character). */
const SAFE_PATH = new RegExp(`^(?:/${SEGMENT})+$`);
/** A store path: safe segments, one of which is a store entry `<32 base-32 chars>-<name>`. */
const STORE_PATH = new RegExp(`^(?:/${SEGMENT})*/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+(?:/${SEGMENT})*$`);

/** True for an absolute path of safe segments (what a dependency's location may be, e.g. `/usr`). */
export function isSafePath(p: string): boolean {
  return SAFE_PATH.test(p);
}

/** True for a store path: `<store dir>/<32-char hash>-<name>[/...]`, every segment of the safe set. */
export function isStorePath(p: string): boolean {
  return STORE_PATH.test(p);
}

/** What is wrong with a dependency path (absolute: a store path or a safe host path), or null when it is fine. */
export function dependencyPathProblem(p: string): string | null {
  if (!p.startsWith("/")) return null;
  if (isStorePath(p) || isSafePath(p)) return null;
  return `dependency path ${JSON.stringify(p)} is not a store path (<store>/<32-char hash>-<name>, segments of [A-Za-z0-9._+@,=~-], no '.' or '..')`;
}

/** Throws (exit 2) when a dependency path is not of the store path form; `where` says which dependency. */
export function assertDependencyPath(p: string, where: string): string {
  const problem = dependencyPathProblem(p);
  if (problem !== null) throw new MbError("plan.dependency-path", `${where}: ${problem}`, { exitCode: ExitCode.usage });
  return p;
}

/** The first string inside a value (a step, a plan) that holds a NUL byte, which no shell word or heredoc can carry. */
function firstNul(value: unknown): string | null {
  if (typeof value === "string") return value.includes("\0") ? value : null;
  if (value === null || typeof value !== "object") return null;
  for (const v of Array.isArray(value) ? value : Object.entries(value).flat()) {
    const hit = firstNul(v);
    if (hit !== null) return hit;
  }
  return null;
}

/** Why a value cannot reach a shell (a string in it holds a NUL byte), or null. */
export function shellTextProblem(value: unknown): string | null {
  const hit = firstNul(value);
  return hit === null ? null : `${JSON.stringify(hit)} holds a NUL byte, which no shell argument, variable or heredoc can carry`;
}

// ---- Dockerfile -----------------------------------------------------------------------------------------------

/** Characters a build-context file name cannot hold in a Dockerfile: controls (line breaks), `\` and glob metacharacters. */
const DOCKER_UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\*?[\]]/;

/** Why a file name cannot be a Dockerfile COPY source, or null. */
export function dockerNameProblem(name: string): string | null {
  if (name === "" || name === "." || name === "..") return `base name ${JSON.stringify(name)} is not a file name`;
  if (DOCKER_UNSAFE_NAME.test(name)) return `base name ${JSON.stringify(name)} holds a control character, '\\' or a glob character (*?[]), which a COPY source cannot carry`;
  return null;
}

/** A word in a JSON-form instruction (`COPY [...]`): the Dockerfile word lexer's `\ ' " $` escaped, then JSON. */
export function dockerJsonWord(s: string): string {
  return JSON.stringify(s.replace(/[\\'"$]/g, "\\$&"));
}

/** `COPY ["<src>", "<dest>"]` in JSON form, every word escaped. */
export function dockerCopy(src: string, dest: string): string {
  return `COPY [${dockerJsonWord(src)}, ${dockerJsonWord(dest)}]`;
}

/** `ENV <name>="<value>"`: the value double-quoted with `\`, `"` and `$` escaped; `name` must be an identifier. */
export function dockerEnv(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new MbError("backend.dockerfile", `dockerfile backend: ENV ${JSON.stringify(name)}=${JSON.stringify(value)} cannot be written on one line`);
  }
  return `ENV ${name}="${value.replace(/[\\"$]/g, "\\$&")}"`;
}

// systemd unit files (systemd.syntax(7), systemd.unit(5), systemd.exec(5)). A value is one line: a line break would
// start a new directive and an odd trailing backslash would continue the line; `%` starts a specifier everywhere.
// Settings differ in what they unquote: Environment= takes C escapes inside quotes, ReadOnlyPaths= and ExecStart='s
// executable only take `\"` and `\\`, Description= takes nothing.

/** Controls a systemd setting cannot hold in a path or an executable (a line break ends the line; systemd refuses the rest). */
const SYSTEMD_UNSAFE_PATH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A free-text value (Description=): on one line (oneLine's escapes, so no backslash is odd) and `%` as `%%`. */
export function systemdText(s: string): string {
  return oneLine(s).replaceAll("%", "%%");
}

/** A double-quoted word with C escapes (Environment=): `\\`, `\"`, `\n`, `\t`, `\r`, `\xNN`, `\uXXXX`; `%` as `%%`. */
export function systemdCWord(s: string): string {
  const named: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  const body = s.replace(/[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x80 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
  return `"${body.replaceAll("%", "%%")}"`;
}

/** What keeps `path` from being written as a systemd path word (ReadOnlyPaths=, ExecStart=), or null. */
export function systemdPathProblem(path: string, what: string): string | null {
  if (!path.startsWith("/")) return `${what} ${JSON.stringify(path)} is not absolute`;
  if (SYSTEMD_UNSAFE_PATH.test(path)) return `${what} ${JSON.stringify(path)} holds a line break or control character, which a systemd unit cannot express`;
  if (what === "executable" && /["'\\]/.test(path)) return `executable ${JSON.stringify(path)} holds a quote or backslash, which systemd refuses in an executable name`;
  return null;
}

/** A path as a double-quoted systemd word (ReadOnlyPaths=, ExecStart='s executable): `\\`, `\"`, `%%`; check it first with systemdPathProblem. */
export function systemdPathWord(path: string): string {
  return `"${path.replace(/[\\"]/g, (c) => `\\${c}`).replaceAll("%", "%%")}"`;
}
