// The binary cache's pieces that need no registry: signing keys (ed25519, Nix's text format, the permission rule of
// the secret key file) and the deterministic entry tar with its strict reader (round trips, hostile archives).
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { entryFingerprint, generateKeyPair, parsePublicKey, parseSecretKey, readPublicKey, readSecretKeyFile, signatureProblem, signText, writeKeyPair } from "../../src/cache/keys.js";
import { EntryUnpacker, entryTar, memberHeaders } from "../../src/cache/entry-tar.js";
import { canonicalProblem, hashTree } from "../../src/engine/tree-hash.js";
import { MbError } from "../../src/core/errors.js";
import { tempDirs } from "../support/temp-dirs.js";

const temps = tempDirs("mb-cache-keys");
afterAll(() => temps.removeAll());

const fp = entryFingerprint("/s/0123456789abcdfghijklmnpqrsvwxy-x", `sha256:${"a".repeat(64)}`, ["/s/b", "/s/a"]);

describe("signing keys", () => {
  it("signs and verifies in Nix's <name>:<base64> format; any change of the signed fields breaks the signature", () => {
    const pair = generateKeyPair("ci-1");
    expect(pair.secret).toMatch(/^ci-1:[A-Za-z0-9+/]{86}==\n$/);
    expect(pair.public).toMatch(/^ci-1:[A-Za-z0-9+/]{43}=\n$/);
    const sec = parseSecretKey(pair.secret);
    const pub = parsePublicKey(pair.public);
    const sig = signText(sec, fp);
    expect(sig.startsWith("ci-1:")).toBe(true);
    expect(signatureProblem(sig, fp, [pub])).toBeNull();
    expect(fp).toBe(`mb-store-entry;1;/s/0123456789abcdfghijklmnpqrsvwxy-x;sha256:${"a".repeat(64)};/s/a,/s/b`);
    const other = entryFingerprint("/s/0123456789abcdfghijklmnpqrsvwxy-x", `sha256:${"b".repeat(64)}`, ["/s/a", "/s/b"]);
    expect(signatureProblem(sig, other, [pub])).toBe("its signature by 'ci-1' does not match its store path, content hash and references");
    expect(signatureProblem(undefined, fp, [pub])).toBe("it is not signed");
    const stranger = parsePublicKey(generateKeyPair("stranger").public);
    expect(signatureProblem(sig, fp, [stranger])).toBe("it is signed by the key 'ci-1', which is not trusted (trusted: stranger)");
    // A key of the same name but other bytes does not verify it either.
    expect(signatureProblem(sig, fp, [parsePublicKey(generateKeyPair("ci-1").public)])).toMatch(/does not match/);
  });

  it("mb key generate's files: K.sec mode 0600, K.pub readable; never over an existing key; a group-readable secret key is refused (exit 2)", () => {
    const dir = temps.tempDir("gen");
    const base = join(dir, "cache-key");
    const made = writeKeyPair(base);
    expect(made.name).toBe("cache-key");
    expect(statSync(`${base}.sec`).mode & 0o777).toBe(0o600);
    expect(readPublicKey(`${base}.pub`).name).toBe("cache-key");
    expect(readPublicKey(readFileSync(`${base}.pub`, "utf8").trim()).text).toBe(readFileSync(`${base}.pub`, "utf8").trim());
    expect(readSecretKeyFile(`${base}.sec`).name).toBe("cache-key");
    expect(() => writeKeyPair(base)).toThrow(/exists: mb key generate never overwrites a key/);
    chmodSync(`${base}.sec`, 0o644);
    let err: unknown;
    try {
      readSecretKeyFile(`${base}.sec`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MbError);
    expect((err as MbError).exitCode).toBe(2);
    expect((err as MbError).message).toBe(`the secret key '${base}.sec' is accessible by group or others (mode 0644); refusing to use it`);
    expect((err as MbError).hint).toBe(`chmod 600 '${base}.sec'`);
    writeFileSync(join(dir, "bad.sec"), "nope\n", { mode: 0o600 });
    expect(() => readSecretKeyFile(join(dir, "bad.sec"))).toThrow(/is not a key of the form <name>:<base64>/);
    expect(() => readPublicKey("no-such-file-or-key")).toThrow(/neither a file nor a key/);
  });
});

/** Unpacks a tar stream (given as blocks, fed in `chunk`-byte pieces) into `dest`; its counts, or the reader's error. */
function unpack(blocks: Iterable<Buffer>, dest: string, chunk = 777): { files: number; bytes: number } {
  const all = Buffer.concat([...blocks]);
  const u = new EntryUnpacker(dest);
  for (let i = 0; i < all.length; i += chunk) u.write(all.subarray(i, i + chunk));
  const counts = u.finish();
  // The hash taken while unpacking is the hash of what is on disk.
  expect(u.treeHash()).toBe(hashTree(dest));
  return counts;
}

const end = Buffer.alloc(1024);
const file = (name: string, body: string) => {
  const data = Buffer.from(body);
  return [...memberHeaders(name, "0", 0o444, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512)];
};

describe("the entry tar", () => {
  it("round-trips a tree (executables, symlinks, empty files and directories, long names) to the same tree hash, in canonical form", () => {
    const dir = temps.tempDir("tree");
    const src = join(dir, "src");
    mkdirSync(join(src, "bin"), { recursive: true });
    mkdirSync(join(src, "empty"));
    writeFileSync(join(src, "bin", "tool"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    writeFileSync(join(src, "zero"), "");
    const long = "d".repeat(90);
    mkdirSync(join(src, long));
    writeFileSync(join(src, long, `${"f".repeat(60)}.txt`), "x".repeat(5000));
    symlinkSync("/abs/target", join(src, "abs-link"));
    symlinkSync(`../${"t".repeat(120)}`, join(src, "long-link"));
    const a = Buffer.concat([...entryTar(src)]);
    const b = Buffer.concat([...entryTar(src)]);
    expect(a.equals(b)).toBe(true);
    const out = join(dir, "out");
    expect(unpack([a], out)).toEqual({ files: 3, bytes: 5000 + 18 });
    expect(hashTree(out)).toBe(hashTree(src));
    expect(canonicalProblem(out)).toBeNull();
    // A single file and a single symlink are entries too.
    const one = join(dir, "one");
    unpack(entryTar(join(src, "bin", "tool")), one, 100);
    expect(hashTree(one)).toBe(hashTree(join(src, "bin", "tool")));
    expect(statSync(one).mode & 0o777).toBe(0o555);
  });

  it("refuses what this cache never writes: escapes, paths through symlinks, duplicates, other member types, truncation", () => {
    const dir = temps.tempDir("hostile");
    let n = 0;
    const refused = (blocks: Buffer[]) => {
      try {
        unpack(blocks, join(dir, `o${n++}`));
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    const root = memberHeaders(".", "5", 0o555, 0);
    expect(refused([...root, ...file("../escape", "x"), end])).toBe("member name '../escape' is not a plain relative path");
    expect(refused([...root, ...file("/etc/passwd", "x"), end])).toBe("member name '/etc/passwd' is not a plain relative path");
    expect(refused([...root, ...memberHeaders("l", "2", 0o777, 0, "/etc"), ...file("l/passwd", "x"), end])).toBe("member 'l/passwd' is not inside a directory of the entry written before it");
    expect(refused([...root, ...file("a", "1"), ...file("a", "2"), end])).toBe("member 'a' appears twice");
    expect(refused([...root, ...memberHeaders("h", "1", 0o444, 0, "a"), end])).toBe("member 'h' has type '1'; an entry holds only files, directories and symlinks");
    expect(refused([...file("a", "1"), end])).toBe("the first member is 'a', not the entry itself ('.')");
    expect(refused([...root, ...file("a", "hello").slice(0, 1)])).toBe("the archive is truncated");
    const bad = Buffer.from(root[0]!);
    bad[0] = 0x2e + 1;
    expect(refused([bad, end])).toBe("a header checksum does not match");
    expect(refused([...root, end, ...file("late", "x")])).toBe("data after the end of the archive");
  });
});
