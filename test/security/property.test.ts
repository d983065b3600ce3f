// The injection property of issue 9: random strings (quotes, $, backticks, newlines, CR, NUL, unicode, `$out`
// look-alikes and ready-made command substitutions that would create a canary file) in every string field of a spec,
// through `plan`, `render shell` (run by bash), `render dockerfile` (read as the Dockerfile grammar does) and `mb build`:
// nothing runs, and every value arrives byte-exact or is rejected by validation.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { expandOut } from "../../src/program/quote.js";
import { mb as runMb } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { dockerWords, envPairs, parseDockerfile } from "./injection-helpers.js";

const temps = tempDirs("mb-property");
afterAll(() => temps.removeAll());
const CANARY = join(temps.tempDir("canary"), "canary");

const injections = [`$(touch ${CANARY})`, `\`touch ${CANARY}\``, `;touch ${CANARY};`, `\ntouch ${CANARY}\n`, `'$(touch ${CANARY})'`, `"$(touch ${CANARY})"`, `\nRUN touch ${CANARY}\n#`];
const tricky = ["$out", "${out}", "$outdir", "$output", "$", "'", '"', "\\", "`", " ", "\n", "\r", "\t", "*", "?", "[", "~", "#", "!", "=", "$(", "${", "/", "-", "é", "💡", "\u2028", "%s"];
const piece = fc.oneof(fc.constantFrom(...tricky, ...injections), fc.string({ maxLength: 3 }), fc.string({ unit: "binary", maxLength: 3 }));
/** Any text without NUL, biased towards shell and Dockerfile syntax. */
const text = fc.array(piece, { maxLength: 6 }).map((p) => p.join("").replaceAll("\0", ""));
/** Text that now and then holds a NUL byte (which must be refused wherever it would reach a shell). */
const textOrNul = fc.oneof({ weight: 9, arbitrary: text }, { weight: 1, arbitrary: text.map((s) => `${s}\0${s}`) });
/** A file name: no `/`, NUL, `.` or `..`, not too long. */
const fileName = text.map((s) => s.replaceAll("/", "_")).filter((s) => s !== "" && s !== "." && s !== ".." && Buffer.byteLength(s) < 120);

const bash = mb.tool({ name: "bash", package: mb.hostPackage("bash") });
// The script names the output through `printenv out` (a `$out` in an argument is the spec's word, substituted by mb)
// and lists the env with bash alone (`${!MBP_@}`, sorted): a build's PATH holds only the declared tools.
const SCRIPT = 'cd "$(printenv out)" && printf "%s\\0" "$@" > args && for n in "${!MBP_@}"; do printf "%s\\0" "${!n}"; done > env';

/** One random spec: names, labels, env, args, paths, texts, service names and descriptions all drawn from `text`. */
// Names that become store entries are at most STORE_NAME_MAX characters (the longer ones are refused by the schema,
// as test/security/strict tests); the injections embed a temporary path, so six pieces can pass that bound.
const storeNameText = (extra = 0) => textOrNul.filter((s) => s.length <= mb.STORE_NAME_MAX - extra);
const specCase = fc.record({
  name: storeNameText(),
  stepName: textOrNul,
  args: fc.array(fc.oneof(textOrNul, text.map((s) => `/${s}`)), { maxLength: 5 }),
  env: fc.dictionary(fc.stringMatching(/^MBP_[A-Z0-9_]{1,5}$/), textOrNul, { maxKeys: 3 }),
  files: fc.array(fc.record({ file: fileName, body: textOrNul }), { maxLength: 3 }).map((fs) => fs.filter((f, i) => fs.findIndex((g) => g.file === f.file) === i)),
  service: fc.record({ name: text.filter((s) => s.length <= mb.STORE_NAME_MAX - "service-.json".length), description: textOrNul }),
  label: fc.record({ key: text, value: textOrNul }),
  dependency: text,
});
type SpecCase = typeof specCase extends fc.Arbitrary<infer T> ? T : never;

/** The case's arguments; for a build, without the local paths (a random path is not on this machine). */
const argsOf = (c: SpecCase, build = false) => (build ? c.args.filter((a) => !a.startsWith("/")) : c.args);
const coreutils = mb.tool({ name: "coreutils", package: mb.hostPackage("coreutils") });

/**
 * The operations of a case. `build` leaves out local-path arguments (a random path is not on this machine); the
 * dependency is left out for a build (a random host package is not here either) and a Dockerfile (which has no native paths).
 */
function operationsOf(c: SpecCase, copies: readonly string[] = [], build = false, dependency = !build): mb.Operation[] {
  return [
    mb.materializeDerivation({ name: c.name, builder: "runCommand" }),
    ...(!dependency ? [] : [mb.resolveDependency({ dependency: mb.dependency({ name: c.dependency, package: mb.hostPackage(c.dependency === "" ? "x" : c.dependency) }) })]),
    mb.declareTool({ tool: bash }),
    // The engine's writeFile needs coreutils declared; the standalone script finds it on the host's PATH.
    ...(build ? [mb.declareTool({ tool: coreutils })] : []),
    mb.runTool({ name: c.stepName, tool: bash, args: ["-c", SCRIPT, "sh", ...argsOf(c, build)], env: c.env }),
    ...c.files.map((f) => mb.writeFile({ output: mb.output({ name: f.file, path: `files/${f.file}` }), text: f.body })),
    ...copies.map((src, i) => mb.copyPath({ source: mb.localSource({ name: `c${i}`, path: src }), output: mb.output({ name: `c${i}`, path: `copies/${i}` }) })),
    mb.emitDescriptor({ descriptor: mb.descriptor({ name: c.label.key, payload: { labels: { [c.label.key]: c.label.value } } }) }),
    mb.declareService({ service: mb.service({ name: c.service.name, description: c.service.description, package: mb.hostPackage("bash") }) }),
    mb.materializeUnit({ name: c.service.name }),
  ];
}

function programOf(c: SpecCase, copies: readonly string[] = []): mb.Program {
  return mb.sequence(operationsOf(c, copies));
}

/** The strings of a case that reach a shell as data (a NUL in one of them must be refused). */
const shellValues = (c: SpecCase, build = false) => [c.stepName, ...argsOf(c, build), ...Object.values(c.env), ...c.files.map((f) => f.body)];
const refusedNul = (c: SpecCase, build = false) => shellValues(c, build).some((v) => v.includes("\0"));

/** What bash gives the tool for an argument: a local path arrives as itself (its pathMap variable), `$out` expanded. */
const received = (a: string, out: string) => (a.startsWith("/") ? a : expandOut(a, out));
/** What `printf "%s\0" "$@"` prints: each argument and a NUL (with no arguments, the format once). */
const printed = (args: readonly string[], out: string) => nulJoined(args.length === 0 ? [""] : args.map((a) => received(a, out)));
const nulJoined = (xs: readonly string[]) => Buffer.concat(xs.map((x) => Buffer.concat([Buffer.from(x, "utf8"), Buffer.from([0])])));

/** Calls `f`; an MbError must be the refusal of a NUL value (exit 2); returns null then. */
function unlessRefused<T>(c: SpecCase, f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    expect(e).toBeInstanceOf(mb.MbError);
    expect((e as mb.MbError).exitCode).toBe(2);
    // A host package named by an absolute path is a dependency path, which must have the store path form.
    if ((e as mb.MbError).code === "plan.dependency-path") expect(c.dependency.startsWith("/")).toBe(true);
    else expect([(e as mb.MbError).code, refusedNul(c)]).toEqual(["plan.nul", true]);
    return null;
  }
}

const counts = { plan: 0, shell: 0, shellRefused: 0, dockerfile: 0, dockerfileRefused: 0, build: 0 };
afterAll(() => console.log(`property cases: ${JSON.stringify(counts)}`));

describe("property: random strings in every field of a spec", () => {
  it("plan: the plan keeps every value byte-exact, and its names and step shell never break a line of a comment", () => {
    fc.assert(
      fc.property(specCase, (c) => {
        counts.plan++;
        const plan = mb.compile(programOf(c));
        expect(plan.name).toBe(c.name);
        expect(plan.steps[0]).toMatchObject({ name: c.stepName, args: ["-c", SCRIPT, "sh", ...c.args], env: c.env });
        expect(plan.runtimeArtifacts[0]!.name).toBe(c.service.name);
        expect(plan.runtimeArtifacts[0]!.storePath).toMatch(/^\/metabuilder\/store\/[0-9a-df-np-sv-z]{32}-service-[A-Za-z0-9+._?=-]+\.json$/);
        const view = unlessRefused(c, () => mb.planView(programOf(c)));
        if (view) expect(view.steps.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
      }),
      { numRuns: 100 },
    );
  });

  it("render shell, run by bash: no canary, args, env and file texts arrive byte-exact", () => {
    fc.assert(
      fc.property(specCase, fc.array(fileName, { maxLength: 2 }), (c, sources) => {
        const dir = temps.tempDir("shell");
        const srcDir = join(dir, "src dir $(x)");
        mkdirSync(srcDir);
        const copies = [...new Set(sources)].map((s) => join(srcDir, s));
        copies.forEach((p, i) => writeFileSync(p, `copy ${i}`));
        const script = unlessRefused(c, () => mb.renderShell(mb.compile(programOf(c, copies))));
        if (script === null) return void counts.shellRefused++;
        counts.shell++;
        const out = join(dir, "out $out 'q'");
        writeFileSync(join(dir, "script.sh"), script);
        const r = spawnSync("bash", [join(dir, "script.sh")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, LC_ALL: "C", out } });
        expect(existsSync(CANARY)).toBe(false);
        expect(r.stderr.toString()).toBe("");
        expect(r.status).toBe(0);
        expect(readFileSync(join(out, "args"))).toEqual(printed(c.args, out));
        const names = Object.keys(c.env).sort();
        expect(readFileSync(join(out, "env"))).toEqual(nulJoined(names.map((n) => expandOut(c.env[n]!, out))));
        for (const f of c.files) expect(readFileSync(join(out, "files", f.file))).toEqual(Buffer.from(`${f.body}\n`, "utf8"));
        copies.forEach((_, i) => expect(readFileSync(join(out, "copies", String(i)), "utf8")).toBe(`copy ${i}`));
      }),
      { numRuns: 40 },
    );
  });

  it("render dockerfile: every instruction well-formed, none added; COPY and ENV carry the base name exactly", () => {
    fc.assert(
      fc.property(specCase, fc.array(fileName, { maxLength: 2 }), (c, sources) => {
        const copies = [...new Set(sources)].map((s) => `/context dir/${s}`);
        const plan = mb.compile(mb.sequence(operationsOf(c, copies, false, false)));
        let text: string;
        try {
          text = mb.renderDockerfile(plan);
        } catch (e) {
          counts.dockerfileRefused++;
          expect(e).toBeInstanceOf(mb.MbError);
          const reasons = mb.dockerfileUnsupportedReasons(plan);
          if (reasons.length === 0) expect((e as mb.MbError).code).toBe("plan.nul");
          else {
            // A refusal names a base name a COPY source cannot carry, or two inputs of one base name (a flat context).
            const bases = Object.values(plan.pathMap).map((p) => p.replace(/\/+$/, "").split("/").pop()!);
            for (const r of reasons) {
              if (r.includes("basenames clash")) expect(new Set(bases).size).toBeLessThan(bases.length);
              else expect(r).toContain("base name");
            }
          }
          return;
        }
        counts.dockerfile++;
        const ins = parseDockerfile(text);
        const guards = plan.tools.length;
        const bases = Object.values(plan.pathMap).map((p) => p.replace(/\/+$/, "").split("/").pop()!);
        const expected = ["ARG", "FROM", ...Array(guards).fill("RUN"), "ENV", "RUN", ...bases.flatMap(() => ["COPY", "ENV"]), ...plan.steps.map(() => "RUN")];
        expect(ins.map((i) => i.keyword)).toEqual(expected);
        const copyIns = ins.filter((i) => i.keyword === "COPY").map((i) => (JSON.parse(i.rest) as string[]).map((w) => dockerWords(w, false).join("")));
        expect(copyIns).toEqual(bases.map((b) => [b, `/inputs/${b}`]));
        const envs = ins.filter((i) => i.keyword === "ENV").map((i) => envPairs(i.rest));
        expect(envs.map((e) => e.length)).toEqual(envs.map(() => 1));
        expect(envs.slice(1).map((e) => e[0]![1])).toEqual(bases.map((b) => `/inputs/${b}`));
        const runs = ins.filter((i) => i.keyword === "RUN").slice(guards + 1);
        expect(runs.map((i) => i.heredoc ?? i.rest)).toEqual(plan.steps.map(mb.renderStep));
      }),
      { numRuns: 100 },
    );
  });
});

describe("property: mb build of random values", () => {
  it("every value arrives byte-exact in the built output, or the build is refused (exit 2) naming the NUL", () => {
    fc.assert(
      fc.property(specCase, (c) => {
        counts.build++;
        const dir = temps.tempDir("build");
        const spec = { _con: "MetaBuilderSpec", name: "property", parameters: [], inputs: [], dependencies: [], tools: [], operations: operationsOf(c, [], true), outputs: [], evidence: [] };
        writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
        const r = runMb(["build", join(dir, "spec.json"), "--no-out-link"], { store: join(dir, "store"), cwd: dir });
        expect(existsSync(CANARY)).toBe(false);
        if (refusedNul(c, true)) {
          expect(r.stderr).toContain("holds a NUL byte");
          expect(r.status).toBe(2);
          return;
        }
        expect(r.stderr).not.toContain("internal error");
        expect(r.status).toBe(0);
        const out = r.stdout.trim().split("\n").pop()!;
        expect(readFileSync(join(out, "args"))).toEqual(printed(argsOf(c, true), out));
        const names = Object.keys(c.env).sort();
        expect(readFileSync(join(out, "env"))).toEqual(nulJoined(names.map((n) => expandOut(c.env[n]!, out))));
        for (const f of c.files) expect(readFileSync(join(out, "files", f.file))).toEqual(Buffer.from(`${f.body}\n`, "utf8"));
      }),
      { numRuns: 10 },
    );
  });
});
