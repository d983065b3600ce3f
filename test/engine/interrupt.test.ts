// Interrupts: SIGINT or SIGTERM in the middle of a build kills the step's whole process group (the step and the
// processes it started), leaves no partial entry, and `mb store verify` then passes. Unconfined (--no-sandbox), so
// the pids a step prints are the host's; test/security/sandbox.test.ts kills a sandboxed build.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pidGone } from "../../src/engine/owner.js";
import { building, cleanup, entries, events, FIXTURES, mb, mbStart, tempDir, until } from "./helpers.js";

afterAll(cleanup);

describe.each(["SIGINT", "SIGTERM"] as const)("%s in the middle of a build", (signal) => {
  it("kills the step's process group, leaves no entry, and the store verifies", async () => {
    const store = tempDir("store");
    const tmp = tempDir("tmp");
    const run = mbStart(["build", join(FIXTURES, "sleeper.json"), "--store", store, "--no-out-link", "--json", "--no-sandbox"], { env: { TMPDIR: tmp } });
    await until(() => events(run.stdout()).some((e) => e.event === "step-start"), 30_000, "the step to start");
    const start = events(run.stdout()).find((e) => e.event === "build-start") as { storePath: string };
    const log = join(store, ".logs", `${start.storePath.slice(store.length + 1)}.log`);
    await until(() => existsSync(log) && /child pid \d+/.test(readFileSync(log, "utf8")), 30_000, "the step to start its child");
    const text = readFileSync(log, "utf8");
    const stepPid = Number(/step pid (\d+)/.exec(text)![1]);
    const childPid = Number(/child pid (\d+)/.exec(text)![1]);
    expect(pidGone(childPid)).toBe(false);

    run.child.kill(signal);
    const r = await run.done;
    expect(r.status).toBe(130);
    expect(r.stderr).toContain(`mb: error: interrupted by ${signal}: running steps were killed and nothing partial entered the store`);
    await until(() => pidGone(stepPid) && pidGone(childPid), 10_000, "the step's processes to be gone");
    expect(entries(store)).toEqual([]);
    expect(building(store)).toEqual([]);
    expect(readdirSync(join(store, ".locks"))).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readFileSync(log, "utf8")).toContain(`mb: interrupted by ${signal}`);

    const verify = mb(["store", "verify", "--store", store]);
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).toBe(`verified 0 entries in ${store}: ok\n`);
  });
});
