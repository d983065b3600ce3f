// Units of the engine: sealing (canonical modes, self-reference rewrite across read chunks, one-pass hash), the
// import copy, the persistent identity cache, lock files with dead owners, and the evaluation cache's witnesses.
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, statSync, symlinkSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HELP, ORNAMENT_NAMES } from "../../src/cli/main.js";
import { ORNAMENTS } from "../../src/ornaments/registry.js";
import { lookupEval, storeEval, type EvalKey } from "../../src/engine/eval-cache.js";
import { cachedHashFile, flushIdentityCache, startWitnessing, stopWitnessing, useIdentityCache, witness } from "../../src/engine/identity.js";
import { tryLock } from "../../src/engine/lock.js";
import { formatOwner, selfOwner } from "../../src/engine/owner.js";
import { Store } from "../../src/engine/store.js";
import { canonicalProblem, copyTreeCanonical, hashFile, hashTree } from "../../src/engine/tree-hash.js";
import { sealTree } from "../../src/engine/seal.js";
import { createHash } from "node:crypto";
// Worker threads run built code: the pool and its users come from dist/ (built by `npm test` before vitest runs).
import { HashPool, LARGE_FILE } from "../../dist/engine/hash-pool.js";
import { CHUNK_BYTES, CHUNKED_FROM, combineChunks, digestFile } from "../../dist/engine/file-digest.js";
import { sealTree as sealTreeBuilt } from "../../dist/engine/seal.js";
import { Speculator } from "../../dist/engine/speculator.js";
import { cleanup, tempDir } from "./helpers.js";

afterAll(cleanup);

describe("sealTree", () => {
  it("rewrites self-references (also across 1 MiB read chunks and in symlinks) and hashes the result", async () => {
    const root = join(tempDir("seal"), "o");
    const from = `${root}`;
    const to = `${root.slice(0, -1)}X`; // same length
    mkdirSync(join(root, "bin"), { recursive: true });
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const at = 1024 * 1024 - 5; // straddles the first chunk boundary
    Buffer.from(from).copy(big, at);
    Buffer.from(from).copy(big, big.length - from.length); // at the very end
    writeFileSync(join(root, "big"), big);
    writeFileSync(join(root, "bin", "tool"), `#!/bin/sh\nexec ${from}/bin/real\n`, { mode: 0o4755 });
    symlinkSync(`${from}/big`, join(root, "link"));
    chmodSync(join(root, "bin"), 0o700);

    const r = await sealTree(root, { rewrite: { from: Buffer.from(from), to: Buffer.from(to) } });
    expect(r.rewritten.sort()).toEqual(["big", "bin/tool", "link"]);
    const after = readFileSync(join(root, "big"));
    expect(after.indexOf(from)).toBe(-1);
    expect(after.subarray(at, at + to.length).toString()).toBe(to);
    expect(after.subarray(after.length - to.length).toString()).toBe(to);
    expect(readlinkSync(join(root, "link"))).toBe(`${to}/big`);
    expect(r.hash).toBe(hashTree(root));
    expect(statSync(join(root, "bin", "tool")).mode & 0o7777).toBe(0o555); // setuid dropped
    expect(statSync(join(root, "big")).mode & 0o7777).toBe(0o444);
    expect(statSync(join(root, "bin")).mode & 0o7777).toBe(0o555);
    expect(lstatSync(join(root, "link")).mtimeMs).toBe(1000);
    expect(canonicalProblem(root)).toBeNull();
  });

  it("refuses special files", async () => {
    const root = tempDir("seal-fifo");
    spawnSync("mkfifo", [join(root, "pipe")]);
    await expect(sealTree(root)).rejects.toThrow(/'pipe' is a special file/);
  });
});

describe("copyTreeCanonical", () => {
  it("copies in canonical form and returns the hashTree of the source", () => {
    const src = tempDir("copy-src");
    mkdirSync(join(src, "d"));
    writeFileSync(join(src, "d", "x"), "x", { mode: 0o755 });
    writeFileSync(join(src, "y"), "y", { mode: 0o600 });
    symlinkSync("d/x", join(src, "l"));
    const dst = join(tempDir("copy-dst"), "copy");
    const r = copyTreeCanonical(src, dst);
    expect(r.hash).toBe(hashTree(src));
    expect(hashTree(dst)).toBe(r.hash);
    expect(canonicalProblem(dst)).toBeNull();
    expect(r).toMatchObject({ files: 2, bytes: 2 });
  });
});

describe("the identity cache", () => {
  it("reuses a file's hash while its stamp holds, and re-hashes when it changes", async () => {
    const dir = tempDir("identity");
    const file = join(dir, "exe");
    writeFileSync(file, "one");
    await new Promise((r) => setTimeout(r, 1100)); // older than the racy window
    const cache = join(dir, "identity.json");
    useIdentityCache(cache);
    const h1 = cachedHashFile(file);
    flushIdentityCache();
    const table = JSON.parse(readFileSync(cache, "utf8"));
    expect(table.entries[`file:${file}`].h).toBe(h1);
    // A planted hash with the same stamp is believed: the file was not read again.
    table.entries[`file:${file}`].h = "planted";
    writeFileSync(cache, JSON.stringify(table));
    useIdentityCache(join(dir, "other.json"));
    useIdentityCache(cache);
    expect(cachedHashFile(file)).toBe("planted");
    writeFileSync(file, "two");
    expect(cachedHashFile(file)).not.toBe("planted");
  });
});

describe("lock files", () => {
  it("a live owner holds the lock; a dead owner's lock is broken", () => {
    const dir = tempDir("locks");
    const path = join(dir, "x.lock");
    const mine = tryLock(path)!;
    expect(mine).not.toBeNull();
    expect(tryLock(path)).toBeNull(); // held by this (live) process
    mine.release();
    const dead = spawnSync("true").pid!;
    writeFileSync(path, formatOwner({ pid: dead, start: "1" }));
    const taken = tryLock(path);
    expect(taken).not.toBeNull();
    expect(readFileSync(path, "utf8")).toBe(formatOwner(selfOwner()));
    taken!.release();
  });
});

describe("the evaluation cache", () => {
  it("answers while every witness holds, and not once one changes", async () => {
    const store = tempDir("eval-store");
    const src = join(tempDir("eval-src"), "builder.json");
    writeFileSync(src, "{}");
    utimesSync(src, 1000, 1000);
    await new Promise((r) => setTimeout(r, 1100));
    const key: EvalKey = { builder: src, exportName: "default", storeDir: store, sourceDateEpoch: 1, system: "x", path: "", cwd: "/", sandbox: "bwrap" };
    startWitnessing();
    witness("file", src);
    const { witnesses, uncacheable } = stopWitnessing();
    expect(uncacheable).toBeNull();
    storeEval({ v: 1, key, witnesses, root: { name: "n", storePath: `${store}/p` }, storePaths: [] });
    expect(lookupEval(key)?.root.storePath).toBe(`${store}/p`);
    expect(lookupEval({ ...key, sourceDateEpoch: 2 })).toBeNull();
    writeFileSync(src, "{ }");
    expect(lookupEval(key)).toBeNull();
  });

  it("does not keep a resolution that read a file changed in the last second", () => {
    const src = join(tempDir("eval-racy"), "builder.json");
    writeFileSync(src, "{}");
    startWitnessing();
    witness("file", src);
    expect(stopWitnessing().uncacheable).toMatch(/changed less than a second ago/);
  });
});

describe("the store", () => {
  it("claims temporary paths exactly as long as the final entry path", () => {
    const store = new Store(tempDir("claim"));
    store.ensureLayout();
    const p = store.mustEntry(`${store.dir}/0123456789abcdfghijklmnpqrsvwxyz-name`);
    const t = store.claimTemp(p);
    expect(t.length).toBe(p.length);
    expect(t.startsWith(`${store.dir}/.b/`)).toBe(true);
    expect(store.abandonedTemps()).toEqual([]); // its owner (this process) is alive
    store.releaseTemp(t);
  });
});

describe("mb --help", () => {
  it("lists every ornament of the registry", () => {
    expect(ORNAMENT_NAMES).toEqual(ORNAMENTS.map((e) => e.name));
    for (const e of ORNAMENTS) expect(HELP).toContain(e.name);
  });
});

describe("sealing with hashing workers", () => {
  const big = (byte: number) => Buffer.alloc(LARGE_FILE + 12345, byte);

  it("gives the same tree hash and file digests as hashing on the main thread, rewrites included", async () => {
    const make = (name: string) => {
      const root = join(tempDir(name), "o");
      mkdirSync(join(root, "d"), { recursive: true });
      const payload = big(0x62);
      Buffer.from(root).copy(payload, LARGE_FILE - 3); // a self-reference inside a large file
      writeFileSync(join(root, "d", "large"), payload);
      writeFileSync(join(root, "other"), big(0x63));
      writeFileSync(join(root, "small"), "small");
      return root;
    };
    const a = make("pool-a");
    const b = make("pool-b");
    const sameLength = (root: string) => ({ from: Buffer.from(root), to: Buffer.from(`${root.slice(0, -1)}Z`) });
    const pool = new HashPool(2);
    try {
      const withPool = await sealTreeBuilt(a, { rewrite: sameLength(a), pool });
      const inline = await sealTreeBuilt(b, { rewrite: sameLength(b) });
      expect(withPool.rewritten).toEqual(["d/large"]);
      expect(inline.rewritten).toEqual(["d/large"]);
      expect(withPool.digests.get("other")).toBe(createHash("sha256").update(big(0x63)).digest("hex"));
      expect(withPool.digests.get("small")).toBe(inline.digests.get("small"));
      // The rewritten roots differ in one byte, so the large files differ; "other" and "small" do not.
      expect(withPool.digests.get("d/large")).toBe(hashFile(join(a, "d", "large")));
      expect(withPool.hash).toBe(hashTree(a));
      expect(inline.hash).toBe(hashTree(b));
    } finally {
      await pool.close();
    }
  });

  it("hashes a file of 1 GiB or more in chunks on several workers, self-references across their ranges included", async () => {
    const root = join(tempDir("chunked"), "o");
    mkdirSync(root, { recursive: true });
    // Sparse files: a GiB of holes costs no disk, and reads as zeros.
    const size = CHUNKED_FROM + 5 * CHUNK_BYTES + 7; // 70 chunks: two workers take 35 each
    const needle = Buffer.from(root);
    const sparse = (name: string, at: number, bytes: Buffer) => {
      const fd = openSync(join(root, name), "w");
      ftruncateSync(fd, size);
      writeSync(fd, bytes, 0, bytes.length, at);
      closeSync(fd);
    };
    sparse("archive", 35 * CHUNK_BYTES - 4, needle); // straddles the boundary between the two workers' ranges
    sparse("blob", 12345, Buffer.from("blob"));
    sparse("clean", size - 3, Buffer.from("end")); // no self-reference: the two workers' chunks stand
    const pool = new HashPool(2);
    try {
      const to = Buffer.from(`${root.slice(0, -1)}Q`);
      const r = await sealTreeBuilt(root, { rewrite: { from: needle, to }, pool, plainFor: (rel: string) => rel === "blob" });
      expect(r.rewritten).toEqual(["archive"]);
      const fd = openSync(join(root, "archive"), "r");
      const around = Buffer.alloc(2 * needle.length);
      readSync(fd, around, 0, around.length, 35 * CHUNK_BYTES - 4 - needle.length);
      closeSync(fd);
      expect(around.indexOf(needle)).toBe(-1);
      expect(around.indexOf(to)).toBe(needle.length);
      expect(r.hash).toBe(hashTree(root)); // the same chunked digests as the single-threaded walk
      // The plain sha256 is kept only where it was asked for.
      expect(r.digests.get("blob")).toBe(hashFile(join(root, "blob")));
      expect(r.digests.has("clean")).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it("reuses a digest taken while the build ran only while the file's stamp holds", async () => {
    const root = join(tempDir("speculate"), "o");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "kept"), big(0x61));
    writeFileSync(join(root, "changed"), big(0x61));
    await new Promise((r) => setTimeout(r, 120)); // older than the trust margin
    const pool = new HashPool(2);
    try {
      const spec = new Speculator(root, Buffer.from(root), pool);
      spec.scan();
      expect([...spec.known.keys()].sort()).toEqual([join(root, "changed"), join(root, "kept")]);
      await Promise.all(spec.known.values());
      // Same size, new bytes: the stamp (ctime) changes, so the early digest must not be used.
      writeFileSync(join(root, "changed"), big(0x7a));
      spec.stop();
      const r = await sealTreeBuilt(root, { known: spec.known, pool });
      expect(r.reused).toBe(1);
      expect(r.digests.get("changed")).toBe(createHash("sha256").update(big(0x7a)).digest("hex"));
      expect(r.hash).toBe(hashTree(root));
    } finally {
      await pool.close();
    }
  });

  it("does not digest, while steps run, a file written less than the trust margin ago", async () => {
    const root = join(tempDir("speculate-recent"), "o");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "fresh"), big(0x61));
    const pool = new HashPool(1);
    try {
      const spec = new Speculator(root, Buffer.from(root), pool);
      chmodSync(join(root, "fresh"), 0o644); // a change of its ctime just now, however long the write itself took
      spec.scan();
      expect(spec.known.size).toBe(0); // too recent: looked at again after the next step
      await new Promise((r) => setTimeout(r, 200));
      expect(spec.known.size).toBe(0); // scans run only when a step ends, never in the middle of one
      spec.scan();
      expect(spec.known.size).toBe(1);
      spec.stop();
      expect((await spec.known.get(join(root, "fresh")))?.trusted).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

describe("tree digests of files", () => {
  it("are the sha256 of the bytes below 1 GiB, and the sha256 of the 16 MiB chunks' digests from there on", () => {
    const dir = tempDir("tree-digest");
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    writeFileSync(join(dir, "small"), "small");
    expect(digestFile(join(dir, "small"), Buffer.alloc(0)).tree).toBe(sha(Buffer.from("small")));
    // A sparse file of 1 GiB + 1 byte: "A", then zeros.
    const fd = openSync(join(dir, "big"), "w");
    ftruncateSync(fd, CHUNKED_FROM + 1);
    writeSync(fd, Buffer.from("A"), 0, 1, 0);
    closeSync(fd);
    const zeros = Buffer.alloc(CHUNK_BYTES);
    const first = Buffer.concat([Buffer.from("A"), zeros.subarray(1)]);
    const zero = sha(zeros);
    const chunks = [sha(first), ...Array.from({ length: CHUNKED_FROM / CHUNK_BYTES - 1 }, () => zero), sha(Buffer.alloc(1))];
    const whole = createHash("sha256").update(first);
    for (let i = 1; i < CHUNKED_FROM / CHUNK_BYTES; i++) whole.update(zeros);
    whole.update(Buffer.alloc(1));
    const d = digestFile(join(dir, "big"), Buffer.alloc(0), true);
    expect(d.tree).toBe(combineChunks(chunks));
    expect(d.tree).toMatch(/^chunked:[0-9a-f]{64}$/);
    expect(d.sha256).toBe(whole.digest("hex"));
  });
});
