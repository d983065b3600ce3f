// Rendering plan steps to shell (reference section 5): escaping, $out splitting, heredoc markers, pathMap keys, env
// prefix; and property tests running the rendered commands in bash: every argument reaches the process unchanged.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { expandOut } from "../../src/program/quote.js";

const sha = mb.sha256;
const printf = mb.tool({ name: "printf", package: mb.hostPackage("bash") });
const bash = mb.tool({ name: "bash", package: mb.hostPackage("bash") });
const run = (args: mb.Arg[], env: Record<string, string | number> = {}, t = printf): mb.PlanStep => ({ _con: "runStep", name: "r", tool: t, args, env });

describe("escapeShellArg", () => {
  it("leaves words of [A-Za-z0-9,._+:@%/-] bare", () => {
    for (const w of ["abc", "ABC-xyz_09", "a,b.c_d+e:f@g%h/i-j", "/usr/bin/env", "--flag", "-", "%", "1.5e+21"]) expect(mb.escapeShellArg(w)).toBe(w);
  });

  it("single-quotes anything else", () => {
    expect(mb.escapeShellArg("hello world")).toBe("'hello world'");
    expect(mb.escapeShellArg("with;semicolon")).toBe("'with;semicolon'");
    for (const c of [" ", "\t", "\n", '"', "$", "`", "\\", "*", "?", "[", "~", "=", "!", "#", "&", "|", "<", ">", "(", ")", "{", "}", "é", "💡"]) {
      expect(mb.escapeShellArg(`a${c}b`)).toBe(`'a${c}b'`);
    }
  });

  it("writes ' as '\\''", () => {
    expect(mb.escapeShellArg("it's")).toBe(`'it'\\''s'`);
    expect(mb.escapeShellArg("'")).toBe(`''\\'''`);
  });

  it("writes the empty string as ''", () => {
    expect(mb.escapeShellArg("")).toBe("''");
  });
});

describe("$out splitting", () => {
  it("splits on $out, escapes each piece, joins with \"$out\"", () => {
    expect(mb.splitAroundOut("--cpp_out=$out/cpp")).toBe(`'--cpp_out='"$out"/cpp`);
    expect(mb.renderArg("--cpp_out=$out/cpp")).toBe(`'--cpp_out='"$out"/cpp`);
    expect(mb.renderArg("$out")).toBe(`''"$out"''`);
    expect(mb.renderArg("$out/a b/$out")).toBe(`''"$out"'/a b/'"$out"''`);
  });

  it("only a whole-word $out or ${out} is substituted, never the start of $outdir or $output", () => {
    expect(mb.renderArg("$outdir")).toBe(`'$outdir'`);
    expect(mb.renderArg("$output/$out_x")).toBe(`'$output/$out_x'`);
    expect(mb.renderArg("${out}/a:$out-b")).toBe(`''"$out"/a:"$out"-b`);
  });

  it("applies to env values too", () => {
    expect(mb.renderStep(run([], { DEST: "$out/share", LANG: "C.UTF-8" }))).toBe(`DEST=''"$out"/share LANG=C.UTF-8 printf`);
  });
});

describe("renderArg", () => {
  it("a local path becomes \"$pathMap_<sha256 of the path>\"", () => {
    expect(mb.pathMapKey("/tmp/schema.proto")).toBe(`pathMap_${sha("/tmp/schema.proto")}`);
    expect(mb.renderArg("/tmp/schema.proto")).toBe(`"$pathMap_${sha("/tmp/schema.proto")}"`);
    expect(mb.renderArg("/tmp/$out")).toBe(`"$pathMap_${sha("/tmp/$out")}"`);
  });

  it("a store path is an input like any absolute path; a relative path and a number are escaped", () => {
    const stored = `${mb.DEFAULT_STORE_DIR}/00000000000000000000000000000000-x`;
    expect(mb.renderArg(stored)).toBe(`"$pathMap_${sha(stored)}"`);
    expect(mb.renderArg("rel/a b")).toBe("'rel/a b'");
    expect(mb.renderArg(42)).toBe("42");
    expect(mb.renderArg(-1.5)).toBe("-1.5");
  });

  it("a package becomes its path, or its name while unresolved", () => {
    expect(mb.renderArg(mb.hostPackage("tzdata"))).toBe("tzdata");
    const resolved = mb.ResolvedPackage.parse({ _con: "resolvedPackage", name: "b", packageName: "b", origin: "path", outPath: "/store/x y-b" });
    expect(mb.renderArg(resolved)).toBe("'/store/x y-b'");
  });
});

describe("renderStep", () => {
  it("runStep: [K=v ...] <tool> <args...>, env sorted by name", () => {
    expect(mb.renderStep(run(["%s\\n", "a b"], { Z: 1, A: "x y" }))).toBe(`A='x y' Z=1 printf '%s\\n' 'a b'`);
    expect(mb.renderStep(run([]))).toBe("printf");
  });

  it("runStep: the tool name is escaped like any word", () => {
    expect(mb.renderStep(run(["x"], {}, mb.tool({ name: "my tool", package: "p" })))).toBe("'my tool' x");
  });

  it("writeStep: mkdir, then a heredoc whose marker is METABUILDER_HEREDOC_<sha256 of the text>", () => {
    const text = '{"imageLayoutVersion":"1.0.0"}';
    expect(mb.heredocMarker(text)).toBe(`METABUILDER_HEREDOC_${sha(text)}`);
    expect(mb.renderStep({ _con: "writeStep", name: "write:oci-layout", path: mb.OutputPath.parse("oci-layout"), text })).toBe(
      [
        `mkdir -p "$(dirname "$out/oci-layout")"`,
        `cat > "$out/oci-layout" <<'METABUILDER_HEREDOC_18f0797eab35a4597c1e9624aa4f15fd91f6254e5538c1e0d193b2a95dd4acc6'`,
        text,
        "METABUILDER_HEREDOC_18f0797eab35a4597c1e9624aa4f15fd91f6254e5538c1e0d193b2a95dd4acc6",
      ].join("\n"),
    );
  });

  it("copyStep: mkdir, then cp -r of the source's pathMap variable", () => {
    const source = mb.localSource({ name: "s", path: "/etc/motd" });
    expect(mb.renderStep({ _con: "copyStep", name: "copy:etc/motd", source, path: mb.OutputPath.parse("etc/motd") })).toBe(
      `mkdir -p "$(dirname "$out/etc/motd")"\ncp -r "$pathMap_${sha("/etc/motd")}" "$out/etc/motd"`,
    );
  });
});

// ---- Property tests: the rendered text, run by bash, gives the process exactly the intended bytes ----------------

const OUT = "/tmp/mb out/*?[x] 'q' \"d\" $HOME";
const tricky = fc.constantFrom("$out", "${out}", "$outdir", "$", "'", '"', "\\", "`", " ", "\n", "\t", "*", "?", "~", "#", "!", "=", "$(", "${", "/", "-", "é", "💡", "\r", "%s");
/** Strings without NUL, biased towards shell metacharacters and `$out`. */
const text = fc
  .oneof(fc.string({ unit: "binary" }), fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 8 }).map((p) => p.join("")))
  .map((s) => s.replaceAll("\0", ""));
const arg: fc.Arbitrary<mb.Arg> = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 2, arbitrary: text.map((s) => `/${s}`) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

/** What the process receives for an argument: a local path through its pathMap variable, else `$out` expanded. */
function received(a: mb.Arg): string {
  if (typeof a === "number") return String(a);
  if (typeof a !== "string") throw new Error("no packages here");
  return mb.isLocalPath(a) ? a : expandOut(a, OUT);
}

/** Runs the plan-view shell of a program in bash with `$out` set; returns stdout bytes. */
function runShell(program: mb.Program, env: Record<string, string> = {}): Buffer {
  const shell = mb.planView(program).shell;
  // stdin closed: bash run with a socket as stdin would read ~/.bashrc (its remote-shell heuristic).
  const r = spawnSync("bash", ["-c", shell], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, LC_ALL: "C", out: OUT, ...env } });
  if (r.error) throw r.error;
  expect(r.stderr.toString()).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
}

const nulJoined = (xs: string[]) => Buffer.concat(xs.map((x) => Buffer.concat([Buffer.from(x, "utf8"), Buffer.from([0])])));

describe("property: runTool arguments reach the process unchanged", () => {
  it("any argument, printed by printf '%s\\0', comes back byte for byte", () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        const program = mb.sequence([mb.declareTool({ tool: printf }), mb.runTool({ name: "echo-args", tool: printf, args: ["%s\\0", ...args] })]);
        // printf reuses its format for every argument; with none it prints the format once, an empty argument.
        const expected = args.length === 0 ? [""] : args.map(received);
        expect(runShell(program)).toEqual(nulJoined(expected));
      }),
      { numRuns: 150 },
    );
  });

  it("strings holding $out get $out expanded, quoted: no word splitting, no globbing", () => {
    const program = mb.sequence([mb.declareTool({ tool: printf }), mb.runTool({ name: "p", tool: printf, args: ["%s\\0", "$out", "--x=$out/a b", "$out$out"] })]);
    expect(runShell(program)).toEqual(nulJoined([OUT, `--x=${OUT}/a b`, `${OUT}${OUT}`]));
  });

  it("a local path is read from its pathMap variable, which holds the path", () => {
    const program = mb.sequence([mb.declareTool({ tool: printf }), mb.runTool({ name: "p", tool: printf, args: ["%s\\0", "/a b/it's/$out"] })]);
    expect(mb.planView(program).shell.split("\n")[1]).toBe(`printf '%s\\0' "$pathMap_${sha("/a b/it's/$out")}"`);
    expect(runShell(program)).toEqual(nulJoined(["/a b/it's/$out"]));
  });
});

describe("property: env values reach the process unchanged", () => {
  it("any env value (with $out expanded) is what the tool sees", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,6}$/), fc.oneof(text, fc.integer()), { maxKeys: 4 }),
        (env) => {
          const names = Object.keys(env).sort();
          const script = `for n in ${names.join(" ")}; do printf '%s\\0' "\${!n}"; done`;
          const program = mb.sequence([mb.declareTool({ tool: bash }), mb.runTool({ name: "show-env", tool: bash, args: ["-c", script], env })]);
          const expected = names.map((n) => expandOut(String(env[n]), OUT));
          expect(runShell(program)).toEqual(nulJoined(expected));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("property: writeFile puts the text in the file", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("any text and any file name: the file holds the text and the heredoc's closing newline", () => {
    const name = fc
      .string({ unit: "binary", minLength: 1, maxLength: 20 })
      .map((s) => s.replaceAll("\0", "").replaceAll("/", ""))
      .filter((s) => s !== "" && s !== "." && s !== ".." && Buffer.byteLength(s) < 200);
    fc.assert(
      fc.property(text, name, (body, file) => {
        const out = mkdtempSync(join(tmpdir(), "mb-write-"));
        dirs.push(out);
        const program = mb.sequence([mb.writeFile({ output: mb.output({ name: "f", path: `sub dir/${file}` }), text: body })]);
        runShell(program, { out });
        expect(readFileSync(join(out, "sub dir", file))).toEqual(Buffer.from(`${body}\n`, "utf8"));
      }),
      { numRuns: 100 },
    );
  });
});
