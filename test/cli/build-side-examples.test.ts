// examples/c-codegen and examples/idl end to end through the CLI (issue 11): `mb build` realizes them in the bubblewrap
// sandbox with Debian's gcc, binutils and protoc; the outputs keep their promises (the CLI is ELF, the library an ar
// archive, the generated C++ and Java exist); `mb check` runs the evidence (the CLI prints "hello from generated C",
// the generated C++ compiles with g++ against libprotobuf-dev); `mb render shell`, run in a clean directory, gives the
// same tree as the build (diff -r); a missing input file is exit 2 before anything runs, naming it.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../src/oci/engine/layout.js";
import { mb, mbBuild, mbEnv, ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-build-side");
afterAll(() => dirs.removeAll());

/** Fails the test, naming the Debian package, when a tool the examples use is missing. */
function requireTools(tools: Record<string, string>): void {
  for (const [tool, pkg] of Object.entries(tools)) if (findExecutable(tool) === null) throw new Error(`required tool '${tool}' is not installed: apt-get install ${pkg}`);
  if (!existsSync("/usr/include/google/protobuf/message.h") && tools["protoc"]) throw new Error("libprotobuf-dev is not installed: apt-get install libprotobuf-dev");
}

/** Runs the plan's standalone shell script in a clean directory; returns the output tree it made. */
function renderAndRun(example: string, store: string): string {
  const r = mb(["render", "shell", example], { store });
  expect(r.status, r.stderr).toBe(0);
  const clean = dirs.tempDir("shell");
  const ran = spawnSync("bash", ["-c", r.stdout], { cwd: clean, env: mbEnv(), encoding: "utf8" });
  expect(ran.status, ran.stderr).toBe(0);
  return join(clean, "out");
}

function sameTree(a: string, b: string): void {
  const d = spawnSync("diff", ["-r", a, b], { encoding: "utf8" });
  expect(d.stdout + d.stderr).toBe("");
  expect(d.status).toBe(0);
}

describe("examples/c-codegen", () => {
  const store = dirs.tempDir("store");

  it("builds: the CLI is ELF, the library an ar archive, headers and pkg-config are there; mb check sees the greeting", () => {
    requireTools({ gcc: "gcc", ar: "binutils", as: "binutils", bwrap: "bubblewrap" });
    const out = mbBuild("examples/c-codegen", store);
    expect(out).toMatch(/-messages-demo-artifact$/);
    expect(readFileSync(join(out, "bin/messages-demo")).subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(readFileSync(join(out, "lib/libmessages-demo.a")).subarray(0, 8).toString("latin1")).toBe("!<arch>\n");
    expect(readFileSync(join(out, "include/generated_messages.h"), "utf8")).toContain("const char *message_hello(void);");
    expect(readFileSync(join(out, "include/config.h"), "utf8")).toMatch(/^#define DEMO_FEATURE 1\n#define MESSAGE_LIMIT 8\n/);
    expect(readFileSync(join(out, "share/messages-demo/smoke.txt"), "utf8")).toBe("hello from generated C\n");
    expect(readFileSync(join(out, "lib/pkgconfig/messages-demo.pc"), "utf8")).toContain("Libs: -L$out/lib -lmessages-demo\n");

    const check = mb(["check", "examples/c-codegen"], { store });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('ok      smoke-test: output "hello from generated C"');
  });

  it("mb render shell, run in a clean directory, gives the same tree as mb build", () => {
    requireTools({ gcc: "gcc", ar: "binutils", as: "binutils", bwrap: "bubblewrap" });
    sameTree(renderAndRun("examples/c-codegen", store), mbBuild("examples/c-codegen", store));
  });
});

describe("examples/idl", () => {
  const store = dirs.tempDir("store");

  it("builds cpp/schema.pb.{h,cc} and the Java sources; mb check compiles the C++ with g++", () => {
    requireTools({ protoc: "protobuf-compiler", "g++": "g++", as: "binutils", bwrap: "bubblewrap" });
    const out = mbBuild("examples/idl", store);
    expect(out).toMatch(/-example-idl-generated$/);
    expect(readFileSync(join(out, "cpp/schema.pb.h"), "utf8")).toContain("class Greeting");
    expect(existsSync(join(out, "cpp/schema.pb.cc"))).toBe(true);
    expect(readFileSync(join(out, "java/metabuilder/example/Schema.java"), "utf8")).toContain("Greeting");

    const check = mb(["check", "examples/idl"], { store });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('ok      cpp-compiles: output "cpp compiles"');
  });

  it("mb render shell, run in a clean directory, gives the same tree as mb build", () => {
    requireTools({ protoc: "protobuf-compiler", bwrap: "bubblewrap" });
    sameTree(renderAndRun("examples/idl", store), mbBuild("examples/idl", store));
  });
});

describe("a missing input file is exit 2 before anything runs, naming it", () => {
  for (const [example, file, message] of [
    ["c-codegen", "messages.def", "cCodegen: schema: "],
    ["idl", "proto/schema.proto", "fromProtobuf: protos[0]: "],
  ] as const) {
    it(`examples/${example} without ${file}`, () => {
      // A copy inside the repository (the package resolves from there), outside examples/ (which the golden test
      // lists), removed afterwards.
      const copy = join(ROOT, "test", "fixtures", `.tmp-missing-${example}-${process.pid}`);
      cpSync(join(ROOT, "examples", example), copy, { recursive: true });
      try {
        rmSync(join(copy, file));
        const store = dirs.tempDir("store");
        for (const cmd of ["validate", "build"]) {
          const r = mb([cmd, copy], { store });
          expect(r.status, r.stderr).toBe(2);
          expect(r.stderr).toContain(`${message}'${join(copy, file)}' does not exist`);
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  }
});
