// The store: canonical read-only entries with metadata, `mb store verify`, `mb gc` from out-links, `mb log`, runtime
// artifacts as their own entries, and self-references rewritten from the temporary build path to the final one.
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashTree, hashTreeV1 } from "../../src/engine/tree-hash.js";
import { bashStep, cleanup, entries, FIXTURES, lastLine, mb, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

function walk(dir: string, f: (path: string) => void): void {
  f(dir);
  if (lstatSync(dir).isDirectory()) for (const n of readdirSync(dir)) walk(join(dir, n), f);
}

describe("store entries", () => {
  it("are canonical (files 0444, executables 0555, directories 0555, mtime 1) and have a metadata record", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "evidence.json"), "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const path = lastLine(r.stdout);
    walk(path, (p) => {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return;
      expect(st.mtimeMs, p).toBe(1000);
      if (st.isDirectory()) expect(st.mode & 0o7777, p).toBe(0o555);
    });
    expect(statSync(join(path, "bin", "greet")).mode & 0o7777).toBe(0o555);

    const meta = JSON.parse(readFileSync(join(store, ".meta", `${basename(path)}.json`), "utf8"));
    expect(meta).toMatchObject({ version: 2, storePath: path, kind: "build", name: "with-evidence", planHash: basename(path).slice(0, 32) });
    expect(meta.outputHash).toBe(`sha256:${hashTree(path)}`);
    expect(meta.steps).toEqual([{ name: "write", durationMs: expect.any(Number) }]);
    expect(meta.tools.map((t: { name: string; version: string | null; contentHash: string }) => [t.name, typeof t.version, t.contentHash.length])).toEqual([
      ["bash", "string", 64],
      ["coreutils", "string", 64],
    ]);
    expect(meta.fingerprint).toMatchObject({ name: "with-evidence", sourceDateEpoch: 1, storeDir: store });
  });

  it("have self-references to the temporary $out rewritten to the final store path", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "selfref.json", spec({
      name: "self-reference",
      tools: ["bash", "coreutils"],
      ops: [bashStep("refer", 'echo "$out" > "$out/where"\nmkdir "$out/target"\nln -s "$out/target" "$out/link"\nprintf "#!/bin/sh\\nexec %s/bin/x\\n" "$out" > "$out/script"')],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const path = lastLine(r.stdout);
    expect(readFileSync(join(path, "where"), "utf8")).toBe(`${path}\n`);
    expect(readlinkSync(join(path, "link"))).toBe(`${path}/target`);
    expect(readFileSync(join(path, "script"), "utf8")).toBe(`#!/bin/sh\nexec ${path}/bin/x\n`);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  });
});

describe("sealing an output", () => {
  it("never touches a file outside the output that a step hard-linked into it", () => {
    const store = tempDir("store");
    const outside = join(tempDir("outside"), "precious.txt");
    writeFileSync(outside, "precious\n", { mode: 0o640 });
    const before = statSync(outside);
    const file = writeSpec(tempDir("spec"), "hardlink.json", spec({
      name: "hard-link",
      tools: ["bash", "coreutils"],
      ops: [bashStep("link", `ln ${outside} "$out/linked"`)],
    }));
    // Unconfined: in the sandbox the step cannot see the file at all (test/security/sandbox.test.ts).
    const r = mb(["build", file, "--store", store, "--no-out-link", "--no-sandbox"]);
    expect(r.status, r.stderr).toBe(0);
    const path = lastLine(r.stdout);
    expect(readFileSync(join(path, "linked"), "utf8")).toBe("precious\n");
    expect(statSync(join(path, "linked")).mode & 0o7777).toBe(0o444);
    const after = statSync(outside);
    expect(after.mode & 0o7777).toBe(0o640);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.nlink).toBe(1);
  });
});

describe("mb store verify", () => {
  it("passes on a sound store and reports corrupt, missing and incomplete entries with exit 1", () => {
    const store = tempDir("store");
    const a = lastLine(mb(["build", join(FIXTURES, "deterministic.json"), "--store", store, "--no-out-link"]).stdout);
    const b = lastLine(mb(["build", join(FIXTURES, "evidence.json"), "--store", store, "--no-out-link"]).stdout);
    const ok = mb(["store", "verify", "--store", store]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`verified 2 entries in ${store}: ok\n`);

    chmodSync(join(a, "greeting.txt"), 0o644);
    writeFileSync(join(a, "greeting.txt"), "tampered\n");
    chmodSync(join(a, "greeting.txt"), 0o444);
    chmodSync(b, 0o755);
    rmSync(b, { recursive: true, force: true });
    const junk = join(store, "0123456789abcdfghijklmnpqrsvwxyz-junk");
    writeFileSync(junk, "no metadata\n");
    const bad = mb(["store", "verify", "--store", store]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`corrupt ${a}: content hash sha256:`);
    expect(bad.stdout).toContain(`missing ${b}: its metadata exists but the entry is gone`);
    expect(bad.stdout).toContain(`incomplete ${junk}: the entry has no metadata record`);
    expect(bad.stdout).toContain(`verified 2 entries in ${store}: 3 problems\n`);
    const json = JSON.parse(mb(["store", "verify", "--store", store, "--json"]).stdout);
    expect(json.problems.map((p: { kind: string }) => p.kind).sort()).toEqual(["corrupt", "incomplete", "missing"]);
  });

  it("checks entries recorded with metadata version 1 by the format-1 tree hash", () => {
    const store = tempDir("store");
    const a = lastLine(mb(["build", join(FIXTURES, "deterministic.json"), "--store", store, "--no-out-link"]).stdout);
    const metaFile = join(store, ".meta", `${basename(a)}.json`);
    const meta = JSON.parse(readFileSync(metaFile, "utf8"));
    expect(hashTreeV1(a)).not.toBe(hashTree(a)); // the formats differ, so the version decides
    writeFileSync(metaFile, JSON.stringify({ ...meta, version: 1, outputHash: `sha256:${hashTreeV1(a)}` }));
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
    writeFileSync(metaFile, JSON.stringify({ ...meta, version: 1 }));
    const r = mb(["store", "verify", "--store", store]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`corrupt ${a}: content hash sha256:${hashTreeV1(a)} differs from the recorded ${meta.outputHash}`);
  });

  it("reports a writable entry as not canonical", () => {
    const store = tempDir("store");
    const a = lastLine(mb(["build", join(FIXTURES, "deterministic.json"), "--store", store, "--no-out-link"]).stdout);
    chmodSync(join(a, "greeting.txt"), 0o644);
    const r = mb(["store", "verify", "--store", store]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`corrupt ${a}: not in canonical form: 'greeting.txt' has mode 644, expected 444`);
  });
});

describe("mb gc", () => {
  it("removes entries not reachable from live out-links and keeps what live entries need", () => {
    const store = tempDir("store");
    const work = tempDir("work");
    const link = join(work, "result");
    const diamond = mb(["build", join(FIXTURES, "diamond.json"), "--store", store, "--out-link", link, "-j", "2"]);
    expect(diamond.status, diamond.stderr).toBe(0);
    expect(readlinkSync(link)).toBe(lastLine(diamond.stdout));
    const loose = lastLine(mb(["build", join(FIXTURES, "deterministic.json"), "--store", store, "--no-out-link"]).stdout);
    expect(entries(store)).toHaveLength(4);

    const dry = mb(["gc", "--store", store, "--dry-run"]);
    expect(dry.stdout).toBe(`would remove ${loose}\nwould remove 1 entry (0.0 MiB), kept 3\n`);
    expect(existsSync(loose)).toBe(true);

    const gc = mb(["gc", "--store", store]);
    expect(gc.status).toBe(0);
    expect(gc.stdout).toBe(`removed ${loose}\nremoved 1 entry (0.0 MiB), kept 3\n`);
    expect(existsSync(loose)).toBe(false);
    expect(existsSync(join(store, ".meta", `${basename(loose)}.json`))).toBe(false);
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);

    // An out-link pointing elsewhere is a dead root: everything goes.
    rmSync(link);
    symlinkSync("/tmp", link);
    const all = mb(["gc", "--store", store, "--json"]);
    expect(JSON.parse(all.stdout)).toMatchObject({ kept: 0, removed: expect.any(Array) });
    expect(JSON.parse(all.stdout).removed).toHaveLength(3);
    expect(entries(store)).toEqual([]);
    expect(readdirSync(join(store, ".roots"))).toEqual([]);
  });

  it("refuses to replace a file with the out-link", () => {
    const store = tempDir("store");
    const work = tempDir("work");
    writeFileSync(join(work, "result"), "mine\n");
    const r = mb(["build", join(FIXTURES, "deterministic.json"), "--store", store], { cwd: work });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cannot create the out-link 'result': a file of that name exists");
    expect(readFileSync(join(work, "result"), "utf8")).toBe("mine\n");
  });
});

describe("mb log", () => {
  it("shows the build log by builder, by store path and by out-link", () => {
    const store = tempDir("store");
    const work = tempDir("work");
    const builder = join(FIXTURES, "deterministic.json");
    const built = mb(["build", builder, "--store", store], { cwd: work });
    expect(built.status, built.stderr).toBe(0);
    const path = lastLine(built.stdout);
    const byBuilder = mb(["log", builder, "--store", store]);
    expect(byBuilder.status).toBe(0);
    expect(byBuilder.stdout).toContain(`mb: building deterministic -> ${path}`);
    expect(byBuilder.stdout).toContain("--- step 2/2: archive (runStep)");
    expect(mb(["log", path]).stdout).toBe(byBuilder.stdout);
    expect(mb(["log", join(work, "result")]).stdout).toBe(byBuilder.stdout);
  });

  it("says so when there is no log (exit 1)", () => {
    const store = tempDir("store");
    const r = mb(["log", join(FIXTURES, "slow.json"), "--store", store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mb: error: no build log for \S+-slow\nmb: hint: it has not been built in this store/);
  });
});

describe("runtime artifacts", () => {
  it("become service-<name>.json store entries that the build references", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "service.json"), "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    const artifact = entries(store).find((n) => n.endsWith("-service-api.json"));
    expect(artifact).toBeDefined();
    const p = join(store, artifact!);
    expect(statSync(p).mode & 0o7777).toBe(0o444);
    expect(JSON.parse(readFileSync(p, "utf8"))).toMatchObject({ name: "api", description: "the API" });
    const meta = JSON.parse(readFileSync(join(store, ".meta", `${basename(lastLine(r.stdout))}.json`), "utf8"));
    expect(meta.references).toContain(p);
    expect(r.stderr).toContain(`mb: wrote runtime artifact api: ${p}`);
    // The plan named that very path before the build.
    const plan = JSON.parse(mb(["export", join(FIXTURES, "service.json"), "--store", store]).stdout);
    expect(JSON.stringify(plan)).toContain(artifact!);
  });
});
