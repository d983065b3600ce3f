// Attacks on the build sandbox (issue 9, item 2) and on local copy sources (item 1, the sources side). Each one
// succeeded before steps ran in bubblewrap: a step read /root, /home and store entries its build never named, wrote
// outside its build directory, outlived a SIGKILL of mb (leaking its build directory); a relative copy source was
// read from the build directory and never hashed, and a source named like an option became one of cp.
import { readdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderStep } from "../../src/program/steps.js";
import type { OutputPath } from "../../src/core/output-path.js";
import { bashStep, cleanup, entries, lastLine, mb, mbStart, spec, tempDir, until, writeSpec } from "../engine/helpers.js";

afterAll(cleanup);

/** A build whose one step runs `script` with bash and coreutils declared; returns the built store path. */
function buildProbe(store: string, name: string, script: string, extra: string[] = [], env?: NodeJS.ProcessEnv): string {
  const file = writeSpec(tempDir("spec"), `${name}.json`, spec({ name, tools: ["bash", "coreutils"], ops: [bashStep(name, script)] }));
  const r = mb(["build", file, "--store", store, "--no-out-link", ...extra], { env });
  expect(r.status, r.stderr).toBe(0);
  return lastLine(r.stdout);
}

const read = (out: string, file: string) => readFileSync(join(out, file), "utf8");

describe("a sandboxed step cannot see the host", () => {
  it("cannot read a file under /root", () => {
    const marker = "/root/.mb-security-marker";
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    writeFileSync(marker, secret, { mode: 0o600 });
    try {
      const out = buildProbe(tempDir("store"), "read-root", `mkdir -p "$out"; cat ${marker} > "$out/stolen" 2>/dev/null || echo denied > "$out/stolen"`);
      expect(read(out, "stolen")).toBe("denied\n");
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it("cannot change its PATH farm (a read-only tmpfs of the build directory)", () => {
    const out = buildProbe(tempDir("store"), "farm-write", `mkdir -p "$out"; { mkdir "$PATH/evil" 2>/dev/null && echo wrote || echo denied; } > "$out/farm"; { { : > "$PATH/evil-file"; } 2>/dev/null && echo wrote || echo denied; } >> "$out/farm"; [ -x "$PATH/mkdir" ] && echo "mkdir still there" >> "$out/farm"`);
    expect(read(out, "farm")).toBe("denied\ndenied\nmkdir still there\n");
  });

  it("sees no /home and no /root at all", () => {
    const out = buildProbe(tempDir("store"), "list-home", `mkdir -p "$out"; for d in /home /root; do if [ -e "$d" ]; then echo "$d visible: $(ls -A "$d" | tr '\\n' ' ')"; else echo "$d absent"; fi; done > "$out/seen"`);
    expect(read(out, "seen")).toBe("/home absent\n/root absent\n");
  });

  it("cannot read a store entry its build does not reference, though it finds the store from $out", () => {
    const store = tempDir("store");
    const secret = `store-secret-${randomBytes(8).toString("hex")}`;
    const victim = buildProbe(store, "victim-entry", `mkdir -p "$out"; echo ${secret} > "$out/secret"`);
    expect(read(victim, "secret")).toBe(`${secret}\n`);
    // $out is <store>/.b/<name>: the step derives the store and globs for the victim by name.
    const out = buildProbe(store, "snoop-store", `mkdir -p "$out"; s="\${out%/.b/*}"; shopt -s nullglob; found=0; for f in "$s"/*-victim-entry/secret; do cat "$f" >> "$out/stolen"; found=1; done; [ $found = 1 ] || echo none > "$out/stolen"; ls -A "$s" > "$out/listing"`);
    expect(read(out, "stolen")).toBe("none\n");
    // Of the store the step sees only the build area (its own directory and $out), nothing else: its PATH farm is
    // made in memory inside the build directory, not bound from the store's .cache.
    expect(read(out, "listing")).toBe(".b\n");
  });

  it("cannot write outside its build directory and $out: host temp dirs and the store are out of reach", () => {
    const store = tempDir("store");
    const victim = tempDir("victim");
    const out = buildProbe(
      store,
      "write-out",
      `mkdir -p "$out"; s="\${out%/.b/*}"; for t in ${victim}/pwned "$s/pwned" "$s/.meta/pwned" /usr/pwned; do if echo pwned > "$t" 2>/dev/null; then echo "wrote $t"; else echo "refused $t"; fi; done > "$out/result"`,
    );
    expect(readdirSync(victim)).toEqual([]);
    expect(existsSync(join(store, "pwned"))).toBe(false);
    expect(existsSync(join(store, ".meta", "pwned"))).toBe(false);
    // Inside the sandbox /tmp is private: the host's temp dir is not there.
    expect(read(out, "result")).toBe(`refused ${victim}/pwned\nrefused ${store}/pwned\nrefused ${store}/.meta/pwned\nrefused /usr/pwned\n`);
  });
});

describe("evidence of a result that is not an image runs in the build's sandbox", () => {
  /** Builds a result holding `data` whose evidence runs `command`, then checks it; returns the check and the entry. */
  function checkProbe(store: string, name: string, command: string, expectedOutput?: string, extra: string[] = []) {
    const evidence = [{ _con: "MetaBuilderEvidence", name: "probe", payload: { command, ...(expectedOutput === undefined ? {} : { expectedOutput }) } }];
    const file = writeSpec(tempDir("spec"), `${name}.json`, spec({ name, tools: ["bash", "coreutils"], ops: [bashStep("data", 'mkdir -p "$out"; echo result-data > "$out/data"')], evidence }));
    const built = mb(["build", file, "--store", store, "--no-out-link", ...extra]);
    expect(built.status, built.stderr).toBe(0);
    return { check: mb(["check", file, "--store", store, ...extra]), out: lastLine(built.stdout) };
  }

  it("reads its result and runs the declared tools, but cannot read /root (before: it printed the secret)", () => {
    const marker = "/root/.mb-evidence-marker";
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    writeFileSync(marker, secret, { mode: 0o600 });
    try {
      const { check } = checkProbe(tempDir("store"), "evidence-read-root", `cat "$out/data"; cat ${marker} 2>/dev/null || echo denied; [ -e /root ] && echo root-visible || echo root-absent`, "result-data\ndenied\nroot-absent");
      expect(check.stdout).toContain("ok      probe: output");
      expect(check.stdout).not.toContain(secret);
      expect(check.status, check.stdout + check.stderr).toBe(0);
    } finally {
      rmSync(marker, { force: true });
    }
  });

  it("cannot write into its result, the store or a host directory (before: it planted files in all three)", () => {
    const store = tempDir("store");
    const victim = tempDir("victim");
    const command = `for t in "$out/planted" "$(dirname "$out")/planted" ${victim}/planted /usr/planted; do if echo x > "$t" 2>/dev/null; then echo "wrote $t"; else echo refused; fi; done | sort -u`;
    const { check, out } = checkProbe(store, "evidence-write", command, "refused");
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(readdirSync(victim)).toEqual([]);
    expect(readdirSync(out)).toEqual(["data"]);
    expect(existsSync(join(store, "planted"))).toBe(false);
  });

  it("sees of the store only its result and the entries it references (before: every entry and the store's metadata)", () => {
    const store = tempDir("store");
    buildProbe(store, "evidence-other-entry", 'mkdir -p "$out"; echo other > "$out/x"');
    const { check } = checkProbe(store, "evidence-listing", 'cd "$(dirname "$out")" && shopt -s dotglob && for f in *; do if [ "$f" = "$(basename "$out")" ]; then echo SELF; else echo "$f"; fi; done', "SELF");
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("with --no-sandbox the evidence runs unconfined, as the build did", () => {
    const { check } = checkProbe(tempDir("store"), "evidence-open", '[ -e /usr/bin ] && echo host-usr; [ -w "$TMPDIR" ] && echo tmp-writable', "host-usr\ntmp-writable", ["--no-sandbox"]);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});

/** Host pids whose command line is exactly `words` (NUL-separated in /proc). */
function pidsRunning(words: string[]): number[] {
  const want = `${words.join("\0")}\0`;
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8") === want) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Starts `mb build` of a step running `copies` sleeps of a random length (its marker on the host) into `store`, and
 * waits until they run; `done` kills whatever of them is left.
 */
async function longBuild(store: string, name: string, copies: 1 | 2, env?: NodeJS.ProcessEnv) {
  const seconds = String(3000 + Math.floor(Math.random() * 5000));
  const script = copies === 2 ? `sleep ${seconds} & sleep ${seconds}; wait` : `sleep ${seconds}`;
  const file = writeSpec(tempDir("spec"), `${name}.json`, spec({ name, tools: ["bash", "coreutils"], ops: [bashStep(name, script)] }));
  const run = mbStart(["build", file, "--store", store, "--no-out-link"], { env });
  const sleeps = () => pidsRunning(["sleep", seconds]);
  await until(() => sleeps().length === copies, 30_000, "the step's sleeps to run");
  const gone = () => until(() => sleeps().length === 0, 10_000, "the step's processes to be gone");
  const done = () => {
    for (const pid of sleeps()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (e) {
        // Gone between the listing and the kill (the sandbox ended it as mb died): that is what the test wants.
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
      }
    }
  };
  return { run, gone, done };
}

describe("SIGKILL of mb during a long step", () => {
  it("leaves no process running, and gc removes the build directory it left in the store", async () => {
    const store = tempDir("store");
    const tmp = tempDir("tmp");
    const { run, gone, done } = await longBuild(store, "long-step", 2, { TMPDIR: tmp });
    try {
      run.child.kill("SIGKILL");
      await run.done;
      await gone();
    } finally {
      done();
    }
    // The killed build left its directory (and its $out) in the store's build area, nothing in TMPDIR.
    expect(readdirSync(tmp)).toEqual([]);
    const own = readdirSync(join(store, ".b")).filter((n) => /^[0-9a-z]{12}$/.test(n));
    expect(own.length).toBe(1);
    expect(readdirSync(join(store, ".b", own[0]!)).some((n) => n === "build-long-step")).toBe(true);
    const gc = mb(["gc", "--store", store]);
    expect(gc.status, gc.stderr).toBe(0);
    expect(readdirSync(join(store, ".b"))).toEqual([]);
    expect(entries(store)).toEqual([]);
  });

  it("SIGINT still ends a sandboxed build at once: exit 130, no process, nothing left in the store", async () => {
    const store = tempDir("store");
    const { run, gone, done } = await longBuild(store, "int-step", 1);
    let status = -1;
    try {
      run.child.kill("SIGINT");
      status = (await run.done).status;
      await gone();
    } finally {
      done();
    }
    expect(status).toBe(130);
    expect(readdirSync(join(store, ".b"))).toEqual([]);
    expect(entries(store)).toEqual([]);
  });

  it("gc leaves the build directory of a live build alone", async () => {
    const store = tempDir("store");
    const { run, done } = await longBuild(store, "live-step", 1);
    try {
      const before = readdirSync(join(store, ".b")).sort();
      expect(mb(["gc", "--store", store]).status).toBe(0);
      expect(readdirSync(join(store, ".b")).sort()).toEqual(before);
    } finally {
      run.child.kill("SIGKILL");
      await run.done;
      done();
    }
  });
});

describe("the sandbox setting", () => {
  it("--no-sandbox builds unconfined, at another store path, which `mb path --no-sandbox` names", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "either.json", spec({ name: "either", tools: ["bash", "coreutils"], ops: [bashStep("probe", `mkdir -p "$out"; [ -e /home ] && echo host > "$out/view" || echo sandbox > "$out/view"`)] }));
    const confined = mb(["build", file, "--store", store, "--no-out-link"]);
    const open = mb(["build", file, "--store", store, "--no-out-link", "--no-sandbox"]);
    expect(confined.status, confined.stderr).toBe(0);
    expect(open.status, open.stderr).toBe(0);
    expect(lastLine(confined.stdout)).not.toBe(lastLine(open.stdout));
    expect(read(lastLine(confined.stdout), "view")).toBe("sandbox\n");
    expect(read(lastLine(open.stdout), "view")).toBe(existsSync("/home") ? "host\n" : "sandbox\n");
    expect(lastLine(mb(["path", file, "--store", store, "--no-sandbox"]).stdout)).toBe(lastLine(open.stdout));
    expect(lastLine(mb(["path", file, "--store", store]).stdout)).toBe(lastLine(confined.stdout));
  });

  it("without bwrap on PATH, mb build exits 1 naming bubblewrap, and --no-sandbox still builds", () => {
    const store = tempDir("store");
    const emptyPath = tempDir("empty-path");
    const file = writeSpec(tempDir("spec"), "nobwrap.json", spec({ name: "no-bwrap", tools: ["bash"], ops: [bashStep("hi", 'echo hi > "$out/hi"')] }));
    const r = mb(["build", file, "--store", store, "--no-out-link"], { env: { PATH: emptyPath } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: bubblewrap is not installed (no 'bwrap' on PATH)");
    expect(r.stderr).toContain("mb: hint: install it (`apt-get install bubblewrap`), or pass --no-sandbox");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(entries(store)).toEqual([]);
    const open = mb(["build", file, "--store", store, "--no-out-link", "--no-sandbox"], { env: { PATH: emptyPath } });
    expect(open.status, open.stderr).toBe(0);
    expect(read(lastLine(open.stdout), "hi")).toBe("hi\n");
  });
});

describe("local copy sources", () => {
  /** A builder directory holding a spec that copies the relative source `source` (a file beside it) to `$out/copied`. */
  function copyBuilder(source: string, content: string): { dir: string; file: string } {
    const dir = tempDir("builder");
    writeFileSync(join(dir, source), content);
    const file = writeSpec(dir, "copy.json", {
      ...spec({ name: "copy-relative", tools: [], ops: [] }),
      operations: [
        { _con: "copyPath", source: { _con: "localSource", name: "data", path: source }, output: { _con: "MetaBuilderOutput", name: "copied", path: "copied", format: "path" } },
        { _con: "materializeDerivation", name: "copy-relative" },
      ],
    });
    return { dir, file };
  }

  it("a relative source is read beside the builder file (not the build directory or cwd) and hashed: changing it changes the store path", () => {
    const store = tempDir("store");
    const elsewhere = tempDir("cwd");
    const { dir, file } = copyBuilder("data.txt", "first\n");
    const first = mb(["build", file, "--store", store, "--no-out-link"], { cwd: elsewhere });
    expect(first.status, first.stderr).toBe(0);
    expect(read(lastLine(first.stdout), "copied")).toBe("first\n");
    writeFileSync(join(dir, "data.txt"), "second\n");
    const second = mb(["build", file, "--store", store, "--no-out-link"], { cwd: elsewhere });
    expect(second.status, second.stderr).toBe(0);
    expect(lastLine(second.stdout)).not.toBe(lastLine(first.stdout));
    expect(read(lastLine(second.stdout), "copied")).toBe("second\n");
  });

  it("a source named like an option ('-rf') is copied as a file, never passed to cp as an option", () => {
    const store = tempDir("store");
    const { file } = copyBuilder("-rf", "not an option\n");
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    expect(read(lastLine(r.stdout), "copied")).toBe("not an option\n");
    // Unanchored (views and backends without a builder file), it renders as ./-rf.
    const step = { _con: "copyStep", name: "copy:x", source: { _con: "localSource", name: "d", path: "-rf" }, path: "x" as OutputPath } as const;
    expect(renderStep(step)).toBe(`mkdir -p "$(dirname "$out/x")"\ncp -r ./-rf "$out/x"`);
  });

  it("a spec that declares no tool can still write a file (the engine provides the base tools)", () => {
    const store = tempDir("store");
    const dir = tempDir("spec");
    mkdirSync(dir, { recursive: true });
    const file = writeSpec(dir, "write.json", {
      ...spec({ name: "write-only", tools: [], ops: [] }),
      operations: [
        { _con: "writeFile", output: { _con: "MetaBuilderOutput", name: "greeting", path: "sub/greeting.txt", format: "path" }, text: "hello" },
        { _con: "materializeDerivation", name: "write-only" },
      ],
    });
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    expect(read(lastLine(r.stdout), "sub/greeting.txt")).toBe("hello\n");
  });
});
