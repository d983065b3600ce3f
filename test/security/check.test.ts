// Issue 9, class "mb check escapes": attacks on the evidence runner and the unpacker, with hand-made OCI layouts whose
// layers point at real host directories (temporary ones), run with the real runners (bwrap, runc). Each attack must
// leave the host untouched and unseen: no host file removed, emptied, linked, chmod-ed or created, no host file read.
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ociImage } from "../../src/oci/ornament.js";
import { OCI_RUNNERS, runOciEvidence } from "../../src/oci/engine/run.js";
import { unpackOciImage } from "../../src/oci/engine/unpack.js";
import { buildWithScript, busyboxRoot, documents, handLayout, mb, removeTempDirs, requireTool, tempDir } from "../oci/helpers.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

const RUNNER_PACKAGES: Record<string, string> = { bwrap: "bubblewrap", runc: "runc", unshare: "util-linux" };

/** One member of a hand-written ustar archive: every field under the test's control, nothing normalised by a tar tool. */
interface Member {
  readonly name: string;
  readonly type: "file" | "dir" | "symlink" | "hardlink";
  readonly link?: string;
  readonly data?: string;
  readonly mode?: number;
}

const TYPEFLAG = { file: "0", hardlink: "1", symlink: "2", dir: "5" } as const;

/** A ustar archive of `members`, in order, written byte by byte. */
function ustar(members: readonly Member[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? "");
    const h = Buffer.alloc(512);
    const put = (off: number, len: number, s: string): void => void h.write(s, off, len, "utf8");
    const octal = (off: number, len: number, n: number): void => put(off, len, `${n.toString(8).padStart(len - 1, "0")}\0`);
    if (m.name.length > 100 || (m.link ?? "").length > 100) throw new Error(`ustar: name too long: ${m.name}`);
    put(0, 100, m.name);
    octal(100, 8, m.mode ?? (m.type === "dir" ? 0o755 : 0o644));
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, m.type === "file" ? data.length : 0);
    octal(136, 12, 1);
    put(148, 8, "        ");
    put(156, 1, TYPEFLAG[m.type]);
    put(157, 100, m.link ?? "");
    put(257, 6, "ustar\0");
    put(263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h);
    if (m.type === "file" && data.length > 0) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A host directory that plays the victim: two files and a subdirectory, and a snapshot to compare with afterwards. */
function victim(): { dir: string; snapshot(): string } {
  const dir = tempDir("host-victim");
  writeFileSync(join(dir, "victim"), "host file\n");
  writeFileSync(join(dir, "secret"), "host secret\n");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub/inner"), "inner\n");
  const snapshot = (): string => {
    const st = statSync(dir);
    const files = ["victim", "secret", "sub/inner"].map((f) => `${f}:${readFileSync(join(dir, f), "utf8").trim()}:${statSync(join(dir, f)).nlink}`);
    return `${(st.mode & 0o7777).toString(8)} ${readdirSync(dir).sort().join(",")} ${files.join(" ")}`;
  };
  return { dir, snapshot };
}

const rootfsOf = (): string => join(tempDir("rootfs"), "rootfs");
/** Enough `..` to climb from any temporary directory to `/` (built, not written, so no test names a path upwards). */
const UP = Array(12).fill("..").join("/");

describe("unpacking never touches the host through a layer's symlinks", () => {
  it("a whiteout under a symlink to a host directory removes nothing on the host", async () => {
    for (const link of ["ABS", UP]) {
      const host = victim();
      const before = host.snapshot();
      const target = link === "ABS" ? host.dir : `${link}${host.dir}`;
      const img = handLayout([ustar([{ name: "link", type: "symlink", link: target }]), ustar([{ name: "link/.wh.victim", type: "file" }, { name: "link/.wh.sub", type: "file" }])]);
      await unpackOciImage(img, rootfsOf());
      expect(host.snapshot()).toBe(before);
    }
  });

  it("an opaque whiteout through a symlink empties no host directory", async () => {
    const host = victim();
    const before = host.snapshot();
    const img = handLayout([ustar([{ name: "link", type: "symlink", link: host.dir }]), ustar([{ name: "link/.wh..wh..opq", type: "file" }])]);
    await unpackOciImage(img, rootfsOf());
    expect(host.snapshot()).toBe(before);
  });

  it("a hard link through a symlink to a host file is refused, and the host file gains no link", async () => {
    const host = victim();
    const before = host.snapshot();
    const img = handLayout([ustar([{ name: "link", type: "symlink", link: host.dir }]), ustar([{ name: "stolen", type: "hardlink", link: "link/secret" }])]);
    await expect(unpackOciImage(img, rootfsOf())).rejects.toThrow(/hard link "stolen" points at "link\/secret", which is not a file in the image/);
    const direct = handLayout([ustar([{ name: "stolen", type: "hardlink", link: join(host.dir, "secret") }])]);
    await expect(unpackOciImage(direct, rootfsOf())).rejects.toThrow(/which is not a file in the image/);
    expect(host.snapshot()).toBe(before);
  });

  it("a hard link to a symlink links the symlink itself, whose target stays inside the image", async () => {
    const host = victim();
    const before = host.snapshot();
    const root = rootfsOf();
    const img = handLayout([ustar([{ name: "s", type: "symlink", link: join(host.dir, "secret") }, { name: "h", type: "hardlink", link: "s" }])]);
    await unpackOciImage(img, root);
    expect(lstatSync(join(root, "h")).isSymbolicLink()).toBe(true);
    expect(host.snapshot()).toBe(before);
  });

  it("a directory's mode is never applied through a symlink that replaced it", async () => {
    const host = victim();
    const before = host.snapshot();
    const img = handLayout([
      ustar([{ name: "d", type: "dir", mode: 0o777 }, { name: "up", type: "dir", mode: 0o777 }, { name: "up/d", type: "dir", mode: 0o777 }]),
      ustar([{ name: "d", type: "symlink", link: host.dir }, { name: "up", type: "symlink", link: join(host.dir, "..") }]),
    ]);
    await unpackOciImage(img, rootfsOf());
    expect(host.snapshot()).toBe(before);
    expect(statSync(join(host.dir, "sub")).mode & 0o777).not.toBe(0o777);
  });

  it("a whiteout named .wh... (the parent of the root) or .wh.. removes nothing outside", async () => {
    const top = tempDir("whiteout-parent");
    writeFileSync(join(top, "sibling"), "beside the rootfs\n");
    for (const name of [".wh...", "sub/.wh...", ".wh..", ".wh."]) {
      const root = join(top, "rootfs");
      const img = handLayout([ustar([{ name: "sub", type: "dir" }]), ustar([{ name, type: "file" }])]);
      const error = await unpackOciImage(img, root).then(() => null, (e: unknown) => e);
      expect(readFileSync(join(top, "sibling"), "utf8")).toBe("beside the rootfs\n"); // the rootfs's parent is still there
      expect(String(error), name).toMatch(/whiteout ".*" names no entry/);
    }
  });

  it("members whose names leave the root are refused; absolute names and symlink loops stay inside", async () => {
    await expect(unpackOciImage(handLayout([ustar([{ name: "a/../../x", type: "file", data: "x" }])]), rootfsOf())).rejects.toThrow(/leaves the root/);
    const host = victim();
    const root = rootfsOf();
    await unpackOciImage(handLayout([ustar([{ name: join(host.dir, "planted"), type: "file", data: "x\n" }])]), root);
    expect(readFileSync(join(root, host.dir, "planted"), "utf8")).toBe("x\n");
    expect(readdirSync(host.dir)).not.toContain("planted");
    const loop = handLayout([ustar([{ name: "a", type: "symlink", link: "b" }, { name: "b", type: "symlink", link: "a" }, { name: "a/x", type: "file", data: "x" }])]);
    await expect(unpackOciImage(loop, rootfsOf())).rejects.toThrow(/too many symlinks/);
  });
});

describe("evidence runs isolated, with no way out of the image", () => {
  let layout: string;
  let busyboxLayer: Buffer;
  beforeAll(() => {
    layout = buildWithScript(ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source: busyboxRoot() }], entrypoint: ["/bin/sh"] }));
    const digest: string = documents(layout).manifest.layers[0].digest;
    busyboxLayer = readFileSync(join(layout, "blobs/sha256", digest.slice(7)));
  });

  it("a WorkingDir under a symlink to a host directory creates nothing on the host", async () => {
    requireTool("bwrap", "bubblewrap");
    const host = victim();
    const before = host.snapshot();
    const img = handLayout([busyboxLayer, ustar([{ name: "w", type: "symlink", link: host.dir }])], undefined, { WorkingDir: "/w/created/deeper" });
    const r = await runOciEvidence(img, "/bin/sh -c 'pwd -P; ls'");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(host.dir, "created/deeper")}\n`); // the image's own copy of that path, empty
    expect(host.snapshot()).toBe(before);
  });

  it("proc and dev symlinked to host directories are replaced inside the image, and the evidence runs", async () => {
    requireTool("bwrap", "bubblewrap");
    const host = victim();
    const before = host.snapshot();
    const img = handLayout([busyboxLayer, ustar([{ name: "proc", type: "symlink", link: host.dir }, { name: "dev", type: "symlink", link: join(host.dir, "sub") }])]);
    const r = await runOciEvidence(img, "/bin/sh -c 'ls /proc/self/ >/dev/null && echo ran'");
    expect(r).toEqual({ status: 0, stdout: "ran\n", stderr: "" });
    expect(host.snapshot()).toBe(before);
  });

  it("a WorkingDir through a file, a symlink loop or .. is an error naming it, and nothing runs", async () => {
    const layer = ustar([{ name: "etcfile", type: "file", data: "x" }, { name: "loop", type: "symlink", link: "loop" }]);
    const withDir = (WorkingDir: string): string => handLayout([busyboxLayer, layer], undefined, { WorkingDir });
    await expect(runOciEvidence(withDir("/etcfile/x"), "/bin/true")).rejects.toThrow(/WorkingDir "\/etcfile\/x": \/etcfile is not a directory in the image/);
    await expect(runOciEvidence(withDir("/loop/x"), "/bin/true")).rejects.toThrow(/too many symlinks \(more than 40\) resolving "loop"/);
    await expect(runOciEvidence(withDir(`/a/${UP}/x`), "/bin/true")).rejects.toThrow(/WorkingDir ".*" leaves the root/);
  });

  describe.each(OCI_RUNNERS as readonly string[])("with %s", (runner) => {
    it("the chroot escape (chroot into a subdirectory, keep the old root as cwd, climb) neither reads nor writes the host", async () => {
      requireTool(runner, RUNNER_PACKAGES[runner]);
      const host = victim();
      const before = host.snapshot();
      const marker = join(host.dir, "secret").slice(1);
      // busybox nsenter -r/x -w/ opens both before chroot(/x), then fchdir()s to the old root: outside the new root.
      const escape = `mkdir -p /x/bin; cat /bin/busybox > /x/bin/sh; chmod 755 /x/bin/sh; nsenter -r/x -w/ /bin/sh -c "cd ${UP}; read l < ${marker} && echo LEAK:\\$l; echo pwned > ${join(host.dir, "written").slice(1)}"; echo end`;
      const r = await runOciEvidence(layout, `/bin/sh -c '${escape}'`, { runner: runner as (typeof OCI_RUNNERS)[number] });
      expect(r.stdout).not.toContain("LEAK");
      expect(r.stdout).toContain("end");
      expect(host.snapshot()).toBe(before);
    });

    it("no new user namespace, mount or chroot inside the evidence (root there gets no power back)", async () => {
      requireTool(runner, RUNNER_PACKAGES[runner]);
      const cmd = "unshare -U -r true 2>/dev/null || echo userns-refused; mount -t tmpfs none /tmp 2>/dev/null || echo mount-refused; chroot / true 2>/dev/null || echo chroot-refused";
      const r = await runOciEvidence(layout, `/bin/sh -c '${cmd}'`, { runner: runner as (typeof OCI_RUNNERS)[number] });
      expect(r.stdout).toBe("userns-refused\nmount-refused\nchroot-refused\n");
    });

    it("the evidence sees its own hostname, mb-evidence", async () => {
      requireTool(runner, RUNNER_PACKAGES[runner]);
      expect(hostname()).not.toBe("mb-evidence");
      const r = await runOciEvidence(layout, "/bin/hostname", { runner: runner as (typeof OCI_RUNNERS)[number] });
      expect(r).toEqual({ status: 0, stdout: "mb-evidence\n", stderr: "" });
    });

    it("has no capabilities, /proc/sys is read-only, and it runs in its own user namespace", async () => {
      requireTool(runner, RUNNER_PACKAGES[runner]);
      const cmd = "grep CapEff /proc/self/status; grep -c \" /proc/sys proc ro,\" /proc/mounts; cat /proc/self/uid_map; echo x > /proc/sys/kernel/hostname || echo refused";
      const r = await runOciEvidence(layout, `/bin/sh -c '${cmd}'`, { runner: runner as (typeof OCI_RUNNERS)[number] });
      const lines = r.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^CapEff:\s+0000000000000000$/);
      expect(Number(lines[1])).toBeGreaterThanOrEqual(1);
      expect(lines[2]!.trim().split(/\s+/)).toEqual(["0", String(process.getuid!()), "1"]); // the host's map is the whole range
      expect(lines[lines.length - 1]).toBe("refused");
    });
  });

  it("no runner is a plain chroot: only bwrap and runc are used", () => {
    expect([...OCI_RUNNERS]).toEqual(["bwrap", "runc"]);
  });

  it("the real example still passes `mb check` (examples/oci-image)", () => {
    requireTool("bwrap", "bubblewrap");
    requireTool("busybox", "busybox-static");
    const store = tempDir("store");
    const work = tempDir("work");
    const built = mb(["build", "examples/oci-image", "--out-link", join(work, "result")], { store });
    expect(built.status, built.stderr).toBe(0);
    const r = mb(["check", "examples/oci-image"], { store });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok      smoke-test: output "oci-smoke-ok"\n');
  });
});
