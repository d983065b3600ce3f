// Execution is hermetic: PATH holds only the declared tools' executables, and steps see exactly the documented
// environment, with pathMap_* pointing at store copies of local inputs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lookupHost } from "../../src/engine/host.js";
import { bashStep, cleanup, entries, FIXTURES, lastLine, mb, output, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

describe("hermetic PATH", () => {
  it("a step that calls an undeclared command fails, naming it", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "undeclared-command.json"), "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("step 1/1 'list-root' exited with status 127");
    expect(r.stderr).toContain("command 'ls' is not on the build PATH: PATH holds only the declared tools' executables (bash)");
    expect(r.stderr).toContain("ls: command not found");
    expect(r.stderr).toContain("mb: hint: declare a tool whose package provides 'ls'");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(entries(store)).toEqual([]);
  });

  it("the commands a step can find are bash's builtins and the declared package's executables, nothing else", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "environment.json"), "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const found = new Set(readFileSync(join(lastLine(r.stdout), "commands.txt"), "utf8").split("\n").filter(Boolean));
    const builtins = spawnSync("bash", ["-c", "compgen -b; compgen -k"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const b of builtins) found.delete(b);
    expect([...found].sort()).toEqual(Object.keys(lookupHost("bash")!.executables).sort());
  });
});

describe("packages", () => {
  it("a missing host package is a clear error that says what to install (exit 1)", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "missing.json", {
      ...spec({ name: "needs-missing", tools: ["bash"], ops: [] }),
      operations: [
        { _con: "declareTool", tool: { _con: "MetaBuilderTool", name: "frobnicate", package: { _con: "hostPackage", name: "mb-no-such-package" } } },
        { _con: "materializeDerivation", name: "needs-missing" },
      ],
    });
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: package 'mb-no-such-package'");
    expect(r.stderr).toContain("is not on this machine: no Debian package 'mb-no-such-package' is installed and no executable 'mb-no-such-package' is on PATH");
    expect(r.stderr).toContain("mb: hint: install it, e.g. `apt-get install mb-no-such-package`");
    expect(entries(store)).toEqual([]);
  });
});

describe("a tool from a path package", () => {
  it("is imported into the store by content and its bin/ executables are on PATH", () => {
    const store = tempDir("store");
    const pkg = join(tempDir("pkg"), "hello-pkg");
    mkdirSync(join(pkg, "bin"), { recursive: true });
    writeFileSync(join(pkg, "bin", "hello"), '#!/bin/sh\necho "hello from $0"\n', { mode: 0o755 });
    const hello = { _con: "MetaBuilderTool", name: "hello", package: { _con: "pathPackage", path: pkg } };
    const file = writeSpec(tempDir("spec"), "path-package.json", {
      ...spec({ name: "uses-path-package", tools: [], ops: [] }),
      tools: [hello],
      operations: [
        { _con: "declareTool", tool: hello },
        { _con: "runTool", name: "greet", tool: hello, args: [], env: {} },
        { _con: "materializeDerivation", name: "uses-path-package" },
      ],
    });
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const log = mb(["log", lastLine(r.stdout)]).stdout;
    // PATH is a farm of exactly this tool set, made in memory inside the sandbox (the build directory's bin/).
    expect(log).toMatch(new RegExp(`hello from ${store}/\\.b/[0-9a-z]{12}/build-uses-path-package/bin/hello\\n`));
    expect(existsSync(join(store, ".cache", "farms")), "no farm on disk").toBe(false);
    const imported = entries(store).find((n) => n.endsWith("-hello-pkg"))!;
    expect(statSync(join(store, imported, "bin", "hello")).mode & 0o7777).toBe(0o555);
  });
});

describe("the environment of a step", () => {
  it("is exactly out, TMPDIR, HOME (which does not exist), SOURCE_DATE_EPOCH, LC_ALL=C and PATH", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "environment.json"), "--store", store, "--no-out-link"], { env: { SOURCE_DATE_EPOCH: "1700000000", SECRET_TOKEN: "leak" } });
    expect(r.status, r.stderr).toBe(0);
    const out = lastLine(r.stdout);
    const vars = new Map(
      readFileSync(join(out, "env.txt"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const m = /^declare -x ([^=]+)(?:="(.*)")?$/.exec(l)!;
          return [m[1]!, m[2] ?? ""] as const;
        }),
    );
    // PWD, OLDPWD, SHLVL and _ are bash's own.
    for (const own of ["PWD", "OLDPWD", "SHLVL", "_"]) vars.delete(own);
    expect([...vars.keys()].sort()).toEqual(["HOME", "LC_ALL", "PATH", "SOURCE_DATE_EPOCH", "TMPDIR", "out"]);
    expect(vars.get("LC_ALL")).toBe("C");
    expect(vars.get("SOURCE_DATE_EPOCH")).toBe("1700000000");
    // $out was a same-length temporary path in the store; the self-reference was rewritten to the final path.
    expect(vars.get("out")).toBe(out);
    expect(mb(["log", out, "--store", store]).stdout).toContain("rewrote self-references to $out in: env.txt");
    expect(readFileSync(join(out, "home-exists.txt"), "utf8")).toBe("no\n");
    // PATH is a farm of exactly the declared tools (made in memory inside the sandbox); the build directory holds
    // tmp/, build/ and bin/.
    const top = vars.get("TMPDIR")!.replace(/\/tmp$/, "");
    expect(vars.get("PATH")).toBe(`${top}/bin`);
    // The build directory lives beside $out in the build's own directory of the store's .b/ (gc removes what a killed
    // build left there).
    expect(top).toMatch(new RegExp(`^${store}/\\.b/[0-9a-z]{12}/build-environment$`));
    expect(readFileSync(join(out, "pwd.txt"), "utf8")).toBe(`${top}/build\n`);
  });

  it("pathMap_* points at the store copy of a local input", () => {
    const store = tempDir("store");
    const input = join(tempDir("input"), "my-input");
    mkdirSync(input);
    writeFileSync(join(input, "a.txt"), "from the input\n");
    const file = writeSpec(tempDir("spec"), "builder.json", spec({
      name: "reads-input",
      tools: ["bash"],
      ops: [bashStep("read", 'read -r line < "$1/a.txt"\necho "$line" > "$out/content"\necho "$1" > "$out/where"\nexport -p | grep -c pathMap_ > "$out/count" || true', [input])],
      outputs: [output("content", "content", "text")],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const out = lastLine(r.stdout);
    expect(readFileSync(join(out, "content"), "utf8")).toBe("from the input\n");
    const where = readFileSync(join(out, "where"), "utf8").trim();
    expect(where).toMatch(new RegExp(`^${store}/[0-9a-z]{32}-my-input$`));
    expect(entries(store)).toContain(basename(where));
    expect(statSync(where).mode & 0o7777).toBe(0o555);
    expect(statSync(join(where, "a.txt")).mode & 0o7777).toBe(0o444);
    expect(readFileSync(join(where, "a.txt"), "utf8")).toBe("from the input\n");
  });
});
