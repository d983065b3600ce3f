// Injection outside the OCI fields (issue 9, item 3): each test is an attack that worked before the one quoting
// module (src/program/quote.ts) and fails now. Real `mb` processes, real bash, real podman builds.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mb } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { BASH_TOOL, envPairs, importBusyboxBase, parseDockerfile, podmanBuild, podmanIn, serviceOps, specOf, writeSpec } from "./injection-helpers.js";

const temps = tempDirs("mb-injection");
afterAll(() => temps.removeAll());

/** Runs a rendered script with bash in `dir` (its `$out` under it); stdin closed so bash reads no rc file. */
function runScript(dir: string, script: string) {
  writeFileSync(join(dir, "script.sh"), script);
  return spawnSync("bash", [join(dir, "script.sh")], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, out: join(dir, "out") } });
}

const noop = [{ _con: "declareTool", tool: BASH_TOOL }, { _con: "runTool", name: "noop", tool: BASH_TOOL, args: ["-c", "true"], env: {} }];
const dependencyOn = (pkg: string) => ({ _con: "resolveDependency", dependency: { _con: "MetaBuilderDependency", name: "evil", role: "native", package: pkg } });
const readSourceOf = (path: string) => ({ _con: "readSource", name: "src", source: { _con: "localSource", name: "src", path } });

describe("dependency-path injection", () => {
  it("mb build: a dependency path holding shell syntax is a validation error (exit 2), never run by the driver prelude", () => {
    const dir = temps.tempDir("dep-build");
    const marker = join(dir, "pwned");
    // A shell redirection, not a command: the build's PATH holds only the declared tools.
    const spec = writeSpec(dir, specOf("dep-inject", [dependencyOn(`/x;echo pwned>${marker};:`), ...noop]));
    const r = mb(["build", spec, "--no-out-link"], { store: join(dir, "store"), cwd: dir });
    expect(existsSync(marker)).toBe(false);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`dependency path "/x;echo pwned>${marker};:" is not a store path`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("mb render shell: the same path never reaches the script; mb validate names the dependency", () => {
    const dir = temps.tempDir("dep-render");
    const marker = join(dir, "pwned");
    const spec = writeSpec(dir, specOf("dep-inject", [dependencyOn(`/x$(touch ${marker})`), ...noop]));
    const r = mb(["render", "shell", spec], { cwd: dir });
    if (r.status === 0) runScript(dir, r.stdout);
    expect(existsSync(marker)).toBe(false);
    expect(r.status).toBe(2);
    const v = mb(["validate", spec], { cwd: dir });
    expect(v.status).toBe(1);
    expect(v.stdout).toContain("error builder.dependency-path at operation 0 (resolve-dependency.dependency.package)");
  });
});

describe("comment injection: a newline in a service (unit) name", () => {
  it("render shell: the runtime-artifact comment stays one line; bash runs nothing from the name", () => {
    const dir = temps.tempDir("comment-shell");
    const marker = join(dir, "pwned");
    const spec = writeSpec(dir, specOf("svc", serviceOps(`web\ntouch ${marker};#`)));
    const r = mb(["render", "shell", spec], { cwd: dir });
    expect(r.status).toBe(0);
    const ran = runScript(dir, r.stdout);
    expect(existsSync(marker)).toBe(false);
    expect(ran.status).toBe(0);
    const comments = r.stdout.split("\n").filter((l) => l.startsWith("# runtime artifact"));
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain(`service:web\\ntouch ${marker};#`);
  });

  describe("render dockerfile, built by podman", () => {
    let podman: ReturnType<typeof podmanIn>;
    let base: string;
    let root: string;
    beforeAll(() => {
      root = temps.tempDir("podman");
      podman = podmanIn(join(root, "podman"));
      base = importBusyboxBase(podman, root);
    });

    it("a service name cannot add a RUN instruction", () => {
      const dir = temps.tempDir("comment-docker");
      const spec = writeSpec(dir, specOf("svc", serviceOps("web\nRUN touch /pwned #")));
      const r = mb(["render", "dockerfile", spec], { cwd: dir });
      expect(r.status).toBe(0);
      expect(parseDockerfile(r.stdout).map((i) => i.keyword)).toEqual(["ARG", "FROM", "ENV", "RUN"]);
      mkdirSync(join(root, "ctx-comment"));
      const img = podmanBuild(podman, join(root, "ctx-comment"), r.stdout, base, "localhost/comment");
      expect(img.built.stderr).toBe("");
      expect(img.built.status).toBe(0);
      expect(img.files).not.toContain("pwned");
      expect(img.files).toContain("out/");
    });

    it("an input's base name with a newline cannot add a RUN instruction: the backend refuses it (exit 1)", () => {
      const dir = temps.tempDir("basename-newline");
      const name = "a b=c\nRUN touch pwned\n#";
      const spec = writeSpec(dir, specOf("copy", [readSourceOf(`/inputs-dir/${name}`)]));
      const r = mb(["render", "dockerfile", spec], { cwd: dir });
      let files: string[] = [];
      if (r.status === 0) {
        const ctx = join(root, "ctx-newline");
        mkdirSync(ctx);
        writeFileSync(join(ctx, "a"), "a");
        writeFileSync(join(ctx, name), "x");
        files = podmanBuild(podman, ctx, r.stdout, base, "localhost/newline").files;
      }
      expect(files).not.toContain("pwned");
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`input "/inputs-dir/a b=c\\nRUN touch pwned\\n#": base name "a b=c\\nRUN touch pwned\\n#" holds a control character`);
    });

    it("an input's base name cannot set another variable (ENV out=...): spaces, quotes and $ arrive byte-exact", () => {
      const dir = temps.tempDir("basename-env");
      const envOf = (name: string) => {
        const r = mb(["render", "dockerfile", writeSpec(dir, specOf("copy", [readSourceOf(`/inputs-dir/${name}`)]))], { cwd: dir });
        expect(r.status).toBe(0);
        return { text: r.stdout, envs: parseDockerfile(r.stdout).filter((i) => i.keyword === "ENV").map((i) => envPairs(i.rest)) };
      };
      const simple = envOf("b out=:evil");
      expect(simple.envs.map((pairs) => pairs.map(([k]) => k))).toEqual([["out"], [expect.stringMatching(/^pathMap_[0-9a-f]{64}$/)]]);
      expect(simple.envs[1]![0]![1]).toBe("/inputs/b out=:evil");
      const name = `it's "b" $HOME \${x} out=:evil é`;
      const { text, envs } = envOf(name);
      expect(envs.map((pairs) => pairs.length)).toEqual([1, 1]);
      expect(envs[1]![0]![1]).toBe(`/inputs/${name}`);
      const ctx = join(root, "ctx-env");
      mkdirSync(ctx);
      writeFileSync(join(ctx, name), "x");
      const img = podmanBuild(podman, ctx, text, base, "localhost/env");
      expect(img.built.status).toBe(0);
      expect(img.env).toContain("out=/out");
      expect(img.env).toContain(`${envs[1]![0]![0]}=/inputs/${name}`);
      expect(img.files).toContain(`inputs/${name}`);
    });
  });
});

describe("$out is substituted only as a whole word", () => {
  it("mb build: $outdir and $output reach the tool as written; $out and ${out} become the output", () => {
    const dir = temps.tempDir("outdir");
    const script = 'printf "%s|" "$@" "$D" > "$out/args"';
    const spec = writeSpec(
      dir,
      specOf("outdir", [{ _con: "declareTool", tool: BASH_TOOL }, { _con: "runTool", name: "args", tool: BASH_TOOL, args: ["-c", script, "sh", "$outdir", "$output/x", "${out}/y", "$out"], env: { D: "$outdir" } }]),
    );
    const r = mb(["build", spec, "--no-out-link"], { store: join(dir, "store"), cwd: dir });
    expect(r.stderr).not.toContain("internal error");
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split("\n").pop()!;
    expect(readFileSync(join(out, "args"), "utf8")).toBe(`$outdir|$output/x|${out}/y|${out}|$outdir|`);
  });
});
