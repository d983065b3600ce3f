// `mb check`: builds if needed, then runs each evidence entry that has a command against the result with $out set to
// the store path, comparing trimmed stdout with expectedOutput; any failure is exit 1 naming the evidence.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bashStep, cleanup, entries, events, FIXTURES, mb, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

describe("mb check", () => {
  it("builds, then runs each evidence command against the result", () => {
    const store = tempDir("store");
    const r = mb(["check", join(FIXTURES, "evidence.json"), "--store", store]);
    expect(r.status, r.stderr).toBe(0);
    const path = join(store, entries(store)[0]!);
    expect(r.stdout).toBe(
      'ok      greets: output "hello from greeter"\n' +
        "ok      lists-bin: exit status 0\n" +
        "skipped note: no command\n" +
        `2/2 evidence passed for ${path}\n`,
    );
    expect(r.stderr).toContain("mb: building with-evidence");
    // Already built: the second check runs no step.
    const again = mb(["check", join(FIXTURES, "evidence.json"), "--store", store, "--json"]);
    expect(again.status).toBe(0);
    const evs = events(again.stdout);
    expect(evs.some((e) => e.event === "step-start")).toBe(false);
    expect(evs.filter((e) => e.event === "evidence")).toEqual([
      { event: "evidence", name: "greets", status: "ok", detail: 'output "hello from greeter"' },
      { event: "evidence", name: "lists-bin", status: "ok", detail: "exit status 0" },
      { event: "evidence", name: "note", status: "skipped", detail: "no command" },
    ]);
  });

  it("fails with exit 1 naming the evidence whose output differs", () => {
    const store = tempDir("store");
    const r = mb(["check", join(FIXTURES, "evidence-failing.json"), "--store", store]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAILED  answer-is-42: expected output "42", got "41"\n');
    expect(r.stdout).toContain("ok      exits-zero: exit status 0\n");
    expect(r.stderr).toContain(`mb: error: evidence failed for 'with-failing-evidence': 'answer-is-42' (expected output "42", got "41")`);
  });

  it("an OCI layout that is not a whole image fails its evidence clearly, naming the evidence", () => {
    const file = writeSpec(tempDir("spec"), "layout.json", spec({
      name: "fake-layout",
      tools: ["bash"],
      ops: [bashStep("write", "echo '{\"imageLayoutVersion\":\"1.0.0\"}' > \"$out/oci-layout\"")],
      evidence: [{ _con: "MetaBuilderEvidence", name: "smoke", payload: { command: "/bin/sh -c 'echo hi'", expectedOutput: "hi" } }],
    }));
    const store = tempDir("store");
    const r = mb(["check", file, "--store", store]);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toMatch(/^FAILED  smoke: could not run: oci: cannot read \S+-fake-layout\/index\.json/m);
    expect(r.stderr).toContain("mb: error: evidence failed for 'fake-layout': 'smoke' (could not run: oci: cannot read");
  });

  it("rejects options that do not apply (exit 2)", () => {
    const r = mb(["check", join(FIXTURES, "evidence.json"), "--out-link", "x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--out-link applies to build only");
  });
});

