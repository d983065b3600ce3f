// The driver: one bash process runs a build's steps, each from its own file in a subshell that is a job of its own
// (its own process group). Step text cannot spill into the driver or the next step; a step's leftovers die with it;
// a shell that stops outside a step is never reported good.
import { openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BuildPlan } from "../../src/core/plan.js";
import { Interrupt } from "../../src/engine/interrupt.js";
import { createSandbox, type StepsExit } from "../../src/engine/sandbox.js";
import { cleanup, tempDir } from "./helpers.js";

afterAll(cleanup);

async function run(steps: string[]): Promise<{ exit: StepsExit; events: string[]; log: string }> {
  const dir = tempDir("driver");
  // A tool whose package puts sleep and cat on the build's PATH (nothing else is there).
  const coreutils = { name: "coreutils", package: { _con: "resolvedPackage", origin: "host", executables: { sleep: "/usr/bin/sleep", cat: "/usr/bin/cat" } } };
  const plan = { name: "driver", tools: [coreutils], nativePaths: [] } as unknown as BuildPlan;
  const sandbox = createSandbox({ plan, inputStore: {}, sourceDateEpoch: 1, out: join(dir, "out") });
  const logPath = join(dir, "log");
  const fd = openSync(logPath, "w+");
  const events: string[] = [];
  try {
    const exit = await sandbox.runSteps(
      steps.map((shell, i) => ({ shell, header: `--- step ${i}` })),
      fd,
      new Interrupt(),
      { onStart: (i) => events.push(`S${i}`), onDone: (i, s) => events.push(`D${i}=${s}`) },
    );
    return { exit, events, log: readFileSync(logPath, "utf8") };
  } finally {
    closeSync(fd);
    sandbox.dispose();
  }
}

describe("the driver", () => {
  it("runs every step, in order, each apart from the others", async () => {
    const r = await run(["x=1; cd /; f() { :; }", 'test -z "${x:-}" && ! type f >/dev/null 2>&1 && test "$PWD" != / && echo apart']);
    expect(r.exit).toEqual({ failed: null, status: 0, signal: null });
    expect(r.events).toEqual(["S0", "D0=0", "S1", "D1=0"]);
    expect(r.log).toContain("--- step 1\napart\n");
  });

  it("runs each step under set -e: a failing command stops its step, which fails the build", async () => {
    const r = await run(["false\necho continued", "echo never"]);
    expect(r.exit).toMatchObject({ failed: 0, status: 1 });
    expect(r.events).toEqual(["S0", "D0=1"]);
    expect(r.log).not.toContain("continued");
    expect(r.log).not.toContain("never");
  });

  it("fails the step whose text does not parse, with status 2, and runs nothing after it", async () => {
    const r = await run(["echo It's built", "echo never", "echo Now it's installed"]);
    expect(r.exit).toMatchObject({ failed: 0, status: 2 });
    expect(r.events).toEqual(["S0", "D0=2"]);
    expect(r.log).not.toContain("never");
  });

  it("parses a step command by command, as bash runs a script (shopt -s extglob then !(pattern) works)", async () => {
    const r = await run(["shopt -s extglob\ncase a in !(b)) echo extglob-ok;; esac"]);
    expect(r.exit.failed).toBeNull();
    expect(r.log).toContain("extglob-ok");
  });

  it("kills what a step leaves running when the step ends", async () => {
    // Dead means gone or a zombie (an orphan waits for its new parent to reap it).
    const check = 'sleep 0.2; state=gone; read -r _ _ state _ < "/proc/$(cat "$TMPDIR/pid")/stat" 2>/dev/null || true\ncase $state in gone|Z|X) echo dead;; *) echo "alive ($state)"; exit 1;; esac';
    const r = await run(['sleep 30 &\necho $! > "$TMPDIR/pid"', check]);
    expect(r.log).toContain("dead");
    expect(r.exit, r.log).toEqual({ failed: null, status: 0, signal: null });
  });

  it("reports a shell that dies between steps as a failure outside any step", async () => {
    const r = await run(["kill -KILL $$", "echo never"]);
    // The step's own subshell survives its driver only until the engine kills the group; either way nothing is good.
    expect(r.exit.status).not.toBe(0);
    expect(r.exit.failed === 0 || r.exit.problem !== undefined).toBe(true);
  });
});
