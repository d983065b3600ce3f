// Attacks on the store (issue 9, item 5): a store that never reports a broken entry as good. Each case really ran
// against the base commit: a full disk left a truncated metadata record that the next build reused; a truncated file
// and a torn record were reused by `build`; a flipped byte passed `mb check` and nothing repaired it; gc removed
// entries between a build's temporary root and its out-link; a read-only store failed cache hits with "internal
// error: EROFS"; a name too long was "internal error: ENAMETOOLONG". Mounts (tmpfs, read-only binds) need root.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bashStep, cleanup, events, lastLine, mb, spec, tempDir, writeSpec } from "../engine/helpers.js";
import { MB, mbAsync } from "../support/mb.js";

afterAll(cleanup);

/** Runs a mount-type command as root; fails naming why when it cannot. */
function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${cmd} is needed by this test and could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(" ")}\` exited ${r.status}: ${r.stderr.trim()} (this test mounts file systems: it needs root and mount(8))`);
}

/** Runs `body` with a tmpfs of `size` mounted at a fresh temporary directory, unmounted afterwards. */
async function withTmpfs<T>(size: string, body: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = tempDir("tmpfs");
  sh("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  try {
    return await body(dir);
  } finally {
    if (spawnSync("umount", [dir]).status !== 0) spawnSync("umount", ["-l", dir]);
  }
}

/** A spec whose one step writes `bytes` bytes of 'a' to `$out/data` (and, with `greet`, an executable `bin/greet`). */
function dataSpec(name: string, bytes: number, evidence: unknown[] = []): Record<string, unknown> {
  return spec({
    name,
    tools: ["bash", "coreutils"],
    ops: [bashStep("write", `set -eo pipefail\nmkdir -p "$out/bin"\nhead -c ${bytes} /dev/zero | tr '\\0' a > "$out/data"\nprintf '#!/bin/sh\\necho hi\\n' > "$out/bin/greet"\nchmod +x "$out/bin/greet"`)],
    evidence,
  });
}

const metaOf = (path: string): string => join(path, "..", ".meta", `${basename(path)}.json`);

/** What a store holds that is not a complete entry: build directories, temp files, entries without a record, locks. */
function partial(store: string): string[] {
  const list = (d: string) => (existsSync(join(store, d)) ? readdirSync(join(store, d)) : []);
  const metas = new Set(list(".meta"));
  return [
    ...list(".b").map((n) => `.b/${n}`),
    ...list(".meta").filter((n) => n.endsWith(".tmp")).map((n) => `.meta/${n}`),
    ...list(".locks").map((n) => `.locks/${n}`),
    ...list(".roots").filter((n) => n.endsWith(".tmp")).map((n) => `.roots/${n}`),
    ...list(".").filter((n) => !n.startsWith(".") && !metas.has(`${n}.json`)).map((n) => `${n} (no record)`),
  ];
}

/** Makes an entry's file writable, runs `f` on it, and makes it read-only again. */
function tamper(file: string, f: (file: string) => void): void {
  chmodSync(join(file, ".."), 0o755);
  chmodSync(file, 0o644);
  f(file);
  chmodSync(file, 0o444);
  chmodSync(join(file, ".."), 0o555);
}

describe("a full disk", () => {
  // The free space left for the build, in bytes: from too little for anything to enough for everything, so that some
  // size runs out exactly while the metadata record is written (the base commit then exited 0 with a torn record).
  const FREE = Array.from({ length: 16 }, (_, i) => 4096 * (i + 1));

  it("is a clear ENOSPC error (exit 1) that leaves nothing partial, and the next build reuses nothing broken", async () => {
    const file = writeSpec(tempDir("spec"), "fill.json", dataSpec("fill", 20000));
    const env = { MB_EVAL_CACHE: "0" };
    const outcomes = await withTmpfs("256k", (mnt) => {
      const store = join(mnt, "store");
      const seen: string[] = [];
      expect(mb(["build", file, "--store", store, "--no-out-link"], { env }).status).toBe(0); // lays the store out
      for (const free of FREE) {
        spawnSync("chmod", ["-R", "u+w", store]);
        for (const n of readdirSync(store)) if (!n.startsWith(".")) rmSync(join(store, n), { recursive: true });
        for (const d of [".meta", ".logs"]) for (const n of readdirSync(join(store, d))) rmSync(join(store, d, n));
        const fs = statfsSync(mnt);
        const fill = fs.bavail * fs.bsize - free;
        if (fill > 0) writeFileSync(join(mnt, "filler"), Buffer.alloc(fill));
        const r = mb(["build", file, "--store", store, "--no-out-link"], { env });
        rmSync(join(mnt, "filler"), { force: true });
        const where = `with ${free} bytes free`;
        expect(r.stderr, where).not.toMatch(/internal error/);
        if (r.status === 0) {
          const path = lastLine(r.stdout);
          expect(JSON.parse(readFileSync(metaOf(path), "utf8")).storePath, where).toBe(path);
          seen.push("built");
        } else {
          expect(r.status, where).toBe(1);
          expect(r.stderr, where).toMatch(/ENOSPC|No space left on device/);
          expect(r.stderr, where).toContain(`the store ${store}`); // named, with what to do
          expect(r.stderr, where).toMatch(/hint: .*free some space .*--store/);
          expect(partial(store), where).toEqual([]);
          seen.push(/cannot install .* the disk is full \(ENOSPC\)/.test(r.stderr) ? "install" : /step 1\/1 'write'/.test(r.stderr) ? "step" : "other");
        }
        const again = mb(["build", file, "--store", store, "--no-out-link", "--json"], { env });
        expect(again.status, `${where}, then with space: ${again.stderr}`).toBe(0);
        const path = (events(again.stdout).at(-1) as { storePath: string }).storePath;
        expect(statSync(join(path, "data")).size, where).toBe(20000);
        expect(mb(["store", "verify", "--store", store]).status, where).toBe(0);
      }
      return seen;
    });
    // Some size ran out while the entry was installed (its record written), the case that used to exit 0.
    expect(outcomes).toContain("install");
    expect(outcomes).toContain("built");
  }, 300_000);
});

describe("a broken entry", () => {
  it("with a truncated file is rebuilt by `build`, not reused", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "data.json", dataSpec("truncated", 20000));
    const path = lastLine(mb(["build", file, "--store", store, "--no-out-link"]).stdout);
    tamper(join(path, "data"), (f) => truncateSync(f, 100));
    const r = mb(["build", file, "--store", store, "--no-out-link", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(events(r.stdout).map((e) => e.event)).toContain("build-done");
    expect(statSync(join(path, "data")).size).toBe(20000);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  });

  it("with a torn or missing metadata record is rebuilt by `build`, not reused", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "data.json", dataSpec("torn", 5000));
    const path = lastLine(mb(["build", file, "--store", store, "--no-out-link"]).stdout);
    const whole = readFileSync(metaOf(path), "utf8");
    for (const [what, damage] of [
      ["torn", () => writeFileSync(metaOf(path), whole.slice(0, whole.length >> 1))],
      ["not a record", () => writeFileSync(metaOf(path), "[]\n")],
      ["missing", () => rmSync(metaOf(path))],
    ] as const) {
      damage();
      const r = mb(["build", file, "--store", store, "--no-out-link", "--json"]);
      expect(r.status, `${what}: ${r.stderr}`).toBe(0);
      expect(events(r.stdout).map((e) => e.event), what).toContain("build-done");
      expect(JSON.parse(readFileSync(metaOf(path), "utf8")).outputHash, what).toBe(JSON.parse(whole).outputHash);
    }
  });

  it("with a flipped byte fails `mb check` before any evidence runs, and `store verify --repair` rebuilds it", () => {
    const store = tempDir("store");
    const evidence = [{ _con: "MetaBuilderEvidence", name: "lists-bin", payload: { command: 'ls "$out/bin"' } }];
    const file = writeSpec(tempDir("spec"), "flip.json", dataSpec("flipped", 3000, evidence));
    // A file changed within the last second is not kept in the evaluation cache (it may change again unseen), and
    // --repair rebuilds only what that cache knows: let the spec age past that second, as a builder written a while ago has.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
    const path = lastLine(mb(["build", file, "--store", store, "--no-out-link"]).stdout);
    tamper(join(path, "data"), (f) => {
      const b = readFileSync(f);
      b[1234] = "b".charCodeAt(0);
      writeFileSync(f, b);
    });
    const check = mb(["check", file, "--store", store]);
    expect(check.status, check.stdout + check.stderr).toBe(1);
    expect(check.stderr).toContain(`the store entry ${path} of 'flipped' is corrupt`);
    expect(check.stderr).toMatch(/a rebuild differs in 'data'/);
    expect(check.stdout).not.toMatch(/lists-bin/); // no evidence ran

    const repair = mb(["store", "verify", "--repair", "--store", store]);
    expect(repair.status, repair.stdout + repair.stderr).toBe(0);
    expect(repair.stdout).toContain(`corrupt ${path}: content hash`);
    expect(repair.stdout).toContain(`rebuilt ${path}: removed and built again`);
    expect(readFileSync(join(path, "data"), "utf8")).toBe("a".repeat(3000));
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
    expect(mb(["check", file, "--store", store]).status).toBe(0);
  });

  it("that no known builder makes is removed by `store verify --repair` (exit 1, reported)", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "gone.json", dataSpec("orphan", 3000));
    const path = lastLine(mb(["build", file, "--store", store, "--no-out-link"]).stdout);
    rmSync(file);
    tamper(join(path, "data"), (f) => truncateSync(f, 10));
    const repair = mb(["store", "verify", "--repair", "--store", store]);
    expect(repair.status).toBe(1);
    expect(repair.stdout).toContain(`removed ${path}: no known builder makes it now`);
    expect(existsSync(path)).toBe(false);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  });
});

describe("gc racing builds", () => {
  it("never removes an entry a build hands out: every out-link of a successful build resolves to a complete entry", async () => {
    const store = tempDir("store");
    const links = tempDir("links");
    const file = writeSpec(tempDir("spec"), "small.json", spec({ name: "small", tools: ["bash"], ops: [bashStep("write", 'echo hi > "$out/data"')] }));
    expect(mb(["build", file, "--store", store, "--no-out-link"]).status).toBe(0);
    // A collector in a tight loop (the engine's own gc, in its own process), while builds of fresh entries run.
    const stop = join(links, "stop");
    const dist = join(MB, "..", "..", "engine");
    const loop = `const { collectGarbage } = await import(${JSON.stringify(join(dist, "gc.js"))});
const { Store } = await import(${JSON.stringify(join(dist, "store.js"))});
const { existsSync } = await import("node:fs");
let n = 0;
while (!existsSync(${JSON.stringify(stop)})) { await collectGarbage(new Store(${JSON.stringify(store)}), { dryRun: false }); n++; await new Promise((r) => setTimeout(r, 5)); }
console.log(n);`;
    const gc = spawn(process.execPath, ["--input-type=module", "-e", loop], { stdio: ["ignore", "pipe", "inherit"] });
    let collections = "";
    gc.stdout.on("data", (b: Buffer) => (collections += b.toString()));
    const gcDone = new Promise((r) => gc.on("close", r));
    const N = 24;
    const results: { i: number; status: number; stderr: string }[] = [];
    try {
      for (let i = 1; i <= N; i += 4) {
        const batch = [i, i + 1, i + 2, i + 3].filter((k) => k <= N);
        const ran = await Promise.all(batch.map((k) => mbAsync(["build", file, "--store", store, "--out-link", join(links, `result-${k}`)], { env: { SOURCE_DATE_EPOCH: String(k) } })));
        ran.forEach((r, j) => results.push({ i: batch[j]!, status: r.status, stderr: r.stderr }));
      }
    } finally {
      writeFileSync(stop, "");
      await gcDone;
    }
    expect(Number(collections.trim())).toBeGreaterThan(N);
    const dangling = results
      .filter((r) => r.status === 0)
      .map((r) => readlinkSync(join(links, `result-${r.i}`)))
      .filter((target) => !existsSync(target) || !existsSync(metaOf(target)));
    expect(results.filter((r) => r.status !== 0).map((r) => r.stderr)).toEqual([]);
    expect(dangling).toEqual([]);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  }, 300_000);
});

describe("a read-only store", () => {
  it("serves cache hits (with and without the evaluation cache) and refuses a miss with a clear EROFS error", () => {
    const store = tempDir("store");
    const links = tempDir("links");
    const file = writeSpec(tempDir("spec"), "small.json", dataSpec("ro", 100));
    const path = lastLine(mb(["build", file, "--store", store, "--no-out-link"]).stdout);
    sh("mount", ["--bind", store, store]);
    try {
      sh("mount", ["-o", "remount,bind,ro", store]);
      for (const cache of ["1", "0"]) {
        const link = join(links, `result-${cache}`);
        const r = mb(["build", file, "--store", store, "--out-link", link], { env: { MB_EVAL_CACHE: cache } });
        expect(r.status, r.stderr).toBe(0);
        expect(lastLine(r.stdout)).toBe(path);
        expect(readlinkSync(link)).toBe(path);
        expect(r.stderr).toContain(`the store ${store} is read-only: the out-link '${link}' is not registered as a gc root`);
      }
      const miss = mb(["build", file, "--store", store, "--no-out-link"], { env: { SOURCE_DATE_EPOCH: "2" } });
      expect(miss.status).toBe(1);
      expect(miss.stderr).not.toMatch(/internal error/);
      expect(miss.stderr).toMatch(/read-only file system \(EROFS/);
    } finally {
      if (spawnSync("umount", [store]).status !== 0) spawnSync("umount", ["-l", store]);
    }
  });
});

describe("a name too long for the file system", () => {
  it("is a clear error, not an internal one, and leaves nothing partial", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "long.json", dataSpec("n".repeat(240), 10));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).toMatch(/too long|at most \d+ characters/);
    expect(partial(store)).toEqual([]);
  });
});

describe("a store directory a shell would read as code", () => {
  // A step may hand $out to a second shell (`bash -c "… $out …"`, as examples/oci-image's rootfs does): a store
  // directory holding `$`, a quote, a space or a backslash would be expanded there. Such a store is refused up front.
  it.each(["a$HOME", "a:b", "a b", "a'b", 'a"b', "a`id`", "a\\b", "a;b"])("%j: a usage error (exit 2) naming the directory and the character; nothing is created", (leaf) => {
    const parent = tempDir("odd-store");
    const store = join(parent, leaf);
    const file = writeSpec(tempDir("spec"), "ok.json", dataSpec("fine", 10));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`the store directory ${JSON.stringify(store)} (from --store) holds`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(store)).toBe(false);
    const env = mb(["build", file, "--no-out-link"], { env: { MB_STORE: store } });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain("(from MB_STORE)");
  });
});
