// `mb --version`, per-command `--help` and "did you mean" for a mistyped command.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mbAsync, ROOT } from "../support/mb.js";
import { COMMAND_HELP } from "../../src/cli/help.js";

const mb = async (...args: string[]) => {
  const r = await mbAsync(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe.concurrent("mb --version, mb <command> --help, did you mean", () => {
  it("--version prints the package.json version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(await mb("--version")).toEqual({ code: 0, stdout: `mb ${version}\n`, stderr: "" });
  });

  it("every command the CLI dispatches has its own help, printed by --help and by `mb help <command>`", async () => {
    const main = readFileSync(join(ROOT, "src/cli/main.ts"), "utf8");
    const dispatched = [...main.matchAll(/new Set\(\[([^\]]*)\]\)/g)].flatMap((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!));
    expect(dispatched.length).toBeGreaterThan(10);
    for (const c of [...dispatched, "docs", "schema"]) expect(Object.keys(COMMAND_HELP)).toContain(c);
    for (const c of ["build", "check", "gc", "render"]) {
      const r = await mb(c, "--help");
      expect(r).toEqual({ code: 0, stdout: COMMAND_HELP[c], stderr: "" });
      expect(r.stdout.startsWith(`Usage: mb ${c} `)).toBe(true);
      expect(await mb("help", c)).toEqual(r);
    }
    expect((await mb("build", "--help")).stdout).toContain("--out-link P");
  });

  it("a mistyped command is exit 2 with the nearest command", async () => {
    expect(await mb("biuld", "examples/oci-image")).toEqual({ code: 2, stdout: "", stderr: "mb: error: unknown command 'biuld'; did you mean 'build'?\nmb: hint: run `mb --help` for usage\n" });
    expect((await mb("introspcet", "x")).stderr).toContain("did you mean 'introspect'?");
    expect(await mb("help", "chek")).toEqual({ code: 2, stdout: "", stderr: "mb: error: unknown command 'chek'; did you mean 'check'?\nmb: hint: run `mb --help` for usage\n" });
    expect((await mb("frobnicate")).stderr).toBe("mb: error: unknown command 'frobnicate'\nmb: hint: run `mb --help` for usage\n");
  });
});
