// The build API in this process (dist/index.js): an AbortSignal cancels a running build as SIGINT cancels `mb build`,
// without the API ever taking over the process's own SIGINT; errors are the CLI's MbErrors.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { build, MbError, path, type BuildEvent } from "../../dist/index.js";
import { pidGone } from "../../src/engine/owner.js";
import { building, cleanup, entries, FIXTURES, mb, tempDir, until } from "./helpers.js";

afterAll(cleanup);

describe("the build API", () => {
  it("an AbortSignal kills the running step, leaves no entry, and rejects with build.interrupted (130)", async () => {
    const store = tempDir("store");
    const sigint = process.listenerCount("SIGINT");
    const ac = new AbortController();
    const run = build(join(FIXTURES, "sleeper.json"), { store, sandbox: false, signal: ac.signal });
    const seen: BuildEvent[] = [];
    for await (const e of run.events) {
      seen.push(e);
      if (e.event === "step-start") {
        expect(process.listenerCount("SIGINT")).toBe(sigint);
        const log = join(store, ".logs", `${e.storePath.slice(store.length + 1)}.log`);
        await until(() => existsSync(log) && /child pid \d+/.test(readFileSync(log, "utf8")), 30_000, "the step to start its child");
        const childPid = Number(/child pid (\d+)/.exec(readFileSync(log, "utf8"))![1]);
        ac.abort();
        await until(() => pidGone(childPid), 10_000, "the step's child to be gone");
      }
    }
    const err = await run.result.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(MbError);
    expect(err).toMatchObject({ code: "build.interrupted", exitCode: 130 });
    expect(seen.map((e) => e.event)).toEqual(["plan", "build-start", "step-start", "step-done", "build-failed"]);
    expect(entries(store)).toEqual([]);
    expect(building(store)).toEqual([]);
    // The CLI says the same of the same builder: its store path, and its error for a missing file.
    const cli = mb(["path", join(FIXTURES, "sleeper.json"), "--store", store, "--no-sandbox"]);
    expect(`${await path(join(FIXTURES, "sleeper.json"), { store, sandbox: false })}\n`).toBe(cli.stdout);
    const missing = await path("no/such/builder.ts", { store }).then(() => null, (e: unknown) => e as MbError);
    expect(mb(["path", "no/such/builder.ts"]).stderr.split("\n")[0]).toBe(`mb: error: ${missing!.message}`);
  });
});
