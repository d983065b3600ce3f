// The backends (reference section 5): a standalone bash script and a Dockerfile from a plan, each with its unsupported reasons.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { MbError } from "../../src/index.js";
import { plan, program, sh, touch } from "../support/backend-demo.js";

const sha = mb.sha256;
const artifactPath = plan.runtimeArtifacts[0]!.storePath;

describe("renderShell", () => {
  it("writes the reference's standalone script", () => {
    const script = mb.renderShell(plan).replaceAll(artifactPath, "<artifact>");
    expect(script).toMatchInlineSnapshot(`
      "#!/usr/bin/env bash
      set -euo pipefail
      out="\${1:-\${out:-$PWD/out}}"
      case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
      export out
      export SOURCE_DATE_EPOCH="\${SOURCE_DATE_EPOCH:-1}"
      export LC_ALL=C
      export HOME=/homeless-shelter
      TMPDIR="$(mktemp -d)"
      export TMPDIR
      trap 'rm -rf "$TMPDIR"' EXIT
      mkdir -p "$out"
      command -v touch >/dev/null 2>&1 || { echo 'backends.shell: missing tool on PATH: touch' >&2; exit 1; }
      command -v sh >/dev/null 2>&1 || { echo 'backends.shell: missing tool on PATH: sh' >&2; exit 1; }
      export pathMap_a5017c23a9f6ed2d1b4e08408fedf24e39aab24bacd1d1597c1432e80497614b=/etc/motd
      touch ''"$out"/stamp
      sh -c 'echo one
      echo two > "'"$out"'/two"'
      mkdir -p "$(dirname "$out/hello.txt")"
      cat > "$out/hello.txt" <<'METABUILDER_HEREDOC_2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
      hello
      METABUILDER_HEREDOC_2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
      mkdir -p "$(dirname "$out/etc/motd")"
      cp -r "$pathMap_a5017c23a9f6ed2d1b4e08408fedf24e39aab24bacd1d1597c1432e80497614b" "$out/etc/motd"
      # runtime artifact service:api (built outside this script): <artifact>
      "
    `);
  });

  it("exports LD_LIBRARY_PATH after the pathMap exports when there are native paths", () => {
    const withLib = mb.compile(mb.sequence([...program.operations, mb.resolveDependency({ dependency: mb.dependency({ name: "z", package: "/nix/store/00000000000000000000000000000000-zlib" }) })]));
    const lines = mb.renderShell(withLib).split("\n");
    const i = lines.indexOf("export LD_LIBRARY_PATH=/nix/store/00000000000000000000000000000000-zlib/lib:${LD_LIBRARY_PATH:-}");
    expect(i).toBeGreaterThan(lines.findIndex((l) => l.startsWith("export pathMap_")));
    expect(lines[i + 1]).toBe("touch ''\"$out\"/stamp");
  });

  // "passes shellcheck" is in test/tools/shellcheck.test.ts (it needs the shellcheck tool).

  it("is unsupported when the builder is not runCommand", () => {
    const foreign = mb.compile(mb.sequence([mb.materializeDerivation({ name: "x", builder: "make" })]));
    expect(mb.shellUnsupportedReasons(foreign)).toEqual(["builder 'make' has no shell translation (only runCommand semantics)"]);
    expect(() => mb.renderShell(foreign)).toThrow(
      expect.objectContaining({
        code: "backend.unsupported",
        exitCode: mb.ExitCode.problems,
        message: "shell backend: plan 'x' is unsupported:\n  - builder 'make' has no shell translation (only runCommand semantics)",
      }),
    );
    expect(() => mb.renderShell(foreign)).toThrow(MbError);
  });

  describe("run in a clean directory, it produces the plan's tree", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-shell-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("every step's file is there, with the expected bytes", () => {
      const input = join(dir, "in put.txt");
      writeFileSync(input, "from the input\n");
      const local = mb.localSource({ name: "in", path: input });
      const p = mb.compile(
        mb.sequence([
          mb.declareTool({ tool: touch }),
          mb.declareTool({ tool: sh }),
          mb.runTool({ name: "stamp", tool: touch, args: ["$out/stamp"] }),
          mb.runTool({ name: "two", tool: sh, args: ["-c", 'mkdir -p "$1/sub" && printf %s "$2" > "$1/sub/two"', "two", "$out", "it's 2"] }),
          mb.writeFile({ output: mb.output({ name: "hello", path: "docs/hello.txt" }), text: "hello" }),
          mb.copyPath({ source: local, output: mb.output({ name: "copy", path: "share/copy.txt" }) }),
        ]),
      );
      const work = join(dir, "work");
      mkdirSync(work);
      writeFileSync(join(dir, "build.sh"), mb.renderShell(p));
      const r = spawnSync("bash", [join(dir, "build.sh")], { cwd: work, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: { PATH: process.env.PATH } });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const out = join(work, "out");
      expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual(["docs", "docs/hello.txt", "share", "share/copy.txt", "stamp", "sub", "sub/two"]);
      expect(readFileSync(join(out, "stamp"), "utf8")).toBe("");
      expect(readFileSync(join(out, "sub/two"), "utf8")).toBe("it's 2");
      expect(readFileSync(join(out, "docs/hello.txt"), "utf8")).toBe("hello\n");
      expect(readFileSync(join(out, "share/copy.txt"), "utf8")).toBe("from the input\n");
    });

    it("fails at once, naming a missing tool", () => {
      const p = mb.compile(mb.sequence([mb.declareTool({ tool: mb.tool({ name: "no-such-tool-mb", package: "x" }) })]));
      const r = spawnSync("bash", ["-c", mb.renderShell(p)], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: { PATH: process.env.PATH } });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("backends.shell: missing tool on PATH: no-such-tool-mb\n");
    });
  });
});

describe("renderDockerfile", () => {
  it("has the reference's shape", () => {
    const text = mb.renderDockerfile(plan).replaceAll(artifactPath, "<artifact>");
    expect(text).toMatchInlineSnapshot(`
      "# syntax=docker/dockerfile:1
      ARG base=debian:stable-slim
      FROM \${base}
      RUN command -v touch >/dev/null
      RUN command -v sh >/dev/null
      ENV out=/out
      RUN mkdir -p /out
      COPY ["motd", "/inputs/motd"]
      ENV pathMap_a5017c23a9f6ed2d1b4e08408fedf24e39aab24bacd1d1597c1432e80497614b="/inputs/motd"
      RUN touch ''"$out"/stamp
      RUN <<'METABUILDER_RUN_c89069ce09d59f7c8e2d3a544a402d98706df208911831b18e90a2a15183698a'
      sh -c 'echo one
      echo two > "'"$out"'/two"'
      METABUILDER_RUN_c89069ce09d59f7c8e2d3a544a402d98706df208911831b18e90a2a15183698a
      RUN <<'METABUILDER_RUN_6429fcca307cbdd3290a806ee8d7719991274e9fafdc412c97e0fd970c9effc7'
      mkdir -p "$(dirname "$out/hello.txt")"
      cat > "$out/hello.txt" <<'METABUILDER_HEREDOC_2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
      hello
      METABUILDER_HEREDOC_2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
      METABUILDER_RUN_6429fcca307cbdd3290a806ee8d7719991274e9fafdc412c97e0fd970c9effc7
      RUN <<'METABUILDER_RUN_e6f3401b3979c8a1c27bd8a857920b2410f09f3c770561651b219c7e2d5749ec'
      mkdir -p "$(dirname "$out/etc/motd")"
      cp -r "$pathMap_a5017c23a9f6ed2d1b4e08408fedf24e39aab24bacd1d1597c1432e80497614b" "$out/etc/motd"
      METABUILDER_RUN_e6f3401b3979c8a1c27bd8a857920b2410f09f3c770561651b219c7e2d5749ec
      # runtime artifact service:api (built outside this image): <artifact>
      "
    `);
  });

  it("a multi-line step becomes a heredoc RUN whose marker is METABUILDER_RUN_<sha256 of the step>", () => {
    const text = mb.renderDockerfile(plan);
    const step = mb.renderStep(plan.steps.find((s) => s.name === "write:hello.txt")!);
    expect(text).toContain(`RUN <<'METABUILDER_RUN_${sha(step)}'\n${step}\nMETABUILDER_RUN_${sha(step)}\n`);
    expect(text).toContain(`\nRUN touch ''"$out"/stamp\n`);
  });

  it("is unsupported for a foreign builder, native paths, or two local inputs sharing a basename (every reason named)", () => {
    const p = mb.compile(
      mb.sequence([
        mb.readSource({ name: "a", source: mb.localSource({ name: "a", path: "/one/schema.proto" }) }),
        mb.readSource({ name: "b", source: mb.localSource({ name: "b", path: "/two/schema.proto" }) }),
        mb.resolveDependency({ dependency: mb.dependency({ name: "z", package: "zlib1g" }) }),
        mb.materializeDerivation({ name: "bad", builder: "buildGoModule" }),
      ]),
    );
    const reasons = [
      "builder 'buildGoModule' has no Dockerfile translation (only runCommand semantics)",
      "nativePaths reference host store paths that do not exist inside an image build",
      "pathMap source basenames clash; a flat build context cannot hold both",
    ];
    expect(mb.dockerfileUnsupportedReasons(p)).toEqual(reasons);
    expect(() => mb.renderDockerfile(p)).toThrow(
      expect.objectContaining({ code: "backend.unsupported", exitCode: mb.ExitCode.problems, message: `dockerfile backend: plan 'bad' is unsupported:\n${reasons.map((r) => `  - ${r}`).join("\n")}` }),
    );
  });
});

describe("renderShell tool guards with resolved packages", () => {
  const resolved = (name: string, executables: Record<string, string>) =>
    ({ _con: "resolvedPackage", name, packageName: name, origin: "host", outPath: "/usr", version: "1", executables, contentHash: "x" }) as const;

  it("skips a tool whose package has no executable of its name when no step invokes it, and guards the others", () => {
    const coreutils = mb.tool({ name: "coreutils", package: resolved("coreutils", { cat: "/usr/bin/cat", ls: "/usr/bin/ls" }) });
    const bash = mb.tool({ name: "bash", package: resolved("bash", { bash: "/usr/bin/bash" }) });
    const plan = mb.compile(
      mb.sequence([mb.declareTool({ tool: bash }), mb.declareTool({ tool: coreutils }), mb.runTool({ name: "s", tool: bash, args: ["-c", "cat /dev/null"] })]),
    );
    const guards = mb.renderShell(plan).split("\n").filter((l) => l.startsWith("command -v"));
    expect(guards).toEqual([`command -v bash >/dev/null 2>&1 || { echo 'backends.shell: missing tool on PATH: bash' >&2; exit 1; }`]);
  });

  it("guards a tool that a step invokes even when its package lacks an executable of that name", () => {
    const odd = mb.tool({ name: "odd", package: resolved("odd-pkg", { other: "/usr/bin/other" }) });
    const plan = mb.compile(mb.sequence([mb.declareTool({ tool: odd }), mb.runTool({ name: "s", tool: odd, args: [] })]));
    expect(mb.renderShell(plan)).toContain("command -v odd >/dev/null 2>&1");
  });
});

describe("renderDockerfile tool guards with resolved packages", () => {
  it("checks the same tools as the shell backend", () => {
    const resolved = (name: string, executables: Record<string, string>) =>
      ({ _con: "resolvedPackage", name, packageName: name, origin: "host", outPath: "/usr", version: "1", executables, contentHash: "x" }) as const;
    const coreutils = mb.tool({ name: "coreutils", package: resolved("coreutils", { cat: "/usr/bin/cat" }) });
    const bash = mb.tool({ name: "bash", package: resolved("bash", { bash: "/usr/bin/bash" }) });
    const plan = mb.compile(mb.sequence([mb.declareTool({ tool: bash }), mb.declareTool({ tool: coreutils }), mb.runTool({ name: "s", tool: bash, args: ["-c", "cat /dev/null"] })]));
    expect(mb.renderDockerfile(plan).split("\n").filter((l) => l.startsWith("RUN command -v"))).toEqual(["RUN command -v bash >/dev/null"]);
  });
});
