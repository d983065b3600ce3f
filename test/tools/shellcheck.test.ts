// shellcheck over the shell backend's scripts: the backends' demo plan and the grid program of every constructor.
// It needs the shellcheck tool (a missing one fails, naming the package), so it is in the e2e tier.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { plan } from "../support/backend-demo.js";
import { constructors, gridProgram } from "../support/grid.js";

function shellcheck(script: string): void {
  const r = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck is required for this test and could not be run (apt-get install shellcheck): ${r.error.message}`);
  expect(r.stdout).toBe("");
  expect(r.status).toBe(0);
}

describe("renderShell", () => {
  it("passes shellcheck", () => {
    shellcheck(mb.renderShell(plan));
  });
});

describe("shellcheck accepts the shell script of every grid program", () => {
  it.each(constructors)("%s", (con) => {
    shellcheck(mb.renderShell(mb.compile(gridProgram(con))));
  });
});
