// Evidence executed inside the image: runOciEvidence unpacks the layout with our own code and runs the command isolated
// by bwrap or runc (never a plain chroot; the escapes tried are in test/security/check.test.ts); each runner is tried,
// and the unpacker is compared with umoci on whiteouts.
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { ociImage } from "../../src/oci/ornament.js";
import { OCI_RUNNERS, findOciRunner, runOciEvidence } from "../../src/oci/engine/run.js";
import { unpackOciImage } from "../../src/oci/engine/unpack.js";
import { buildWithScript, busyboxRoot, handLayout, must, requireTool, tarOf, tempDir, treeOf, removeTempDirs } from "./helpers.js";

// Real builds and real tools: generous limits, for a loaded machine running the whole suite at once.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

const RUNNER_PACKAGES = { bwrap: "bubblewrap", runc: "runc" } as const;

let layout: string;
beforeAll(() => {
  const spec = ociImage({
    name: "busybox-shell",
    layers: [{ name: "busybox", source: busyboxRoot() }],
    entrypoint: ["/bin/sh"],
    env: ["GREETING=hello $out `x` \"q\"", "PATH=/bin"],
  });
  layout = buildWithScript(spec);
});

describe.each(OCI_RUNNERS)("runOciEvidence with %s", (runner) => {
  it("runs the seed's smoke test and prints oci-smoke-ok", async () => {
    requireTool(runner, RUNNER_PACKAGES[runner]);
    expect(await runOciEvidence(layout, "/bin/sh -c 'echo oci-smoke-ok'", { runner })).toEqual({ status: 0, stdout: "oci-smoke-ok\n", stderr: "" });
  });

  it("sees the image's root, not the host's, in its own pid namespace, without network", async () => {
    requireTool(runner, RUNNER_PACKAGES[runner]);
    const r = await runOciEvidence(layout, `/bin/sh -c 'ls /; echo pid=$$; test -e ${process.cwd()} && echo LEAK; cat /proc/net/dev | grep -c :'`, { runner });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toContain("bin");
    expect(lines).not.toContain("usr");
    expect(lines).not.toContain("LEAK");
    expect(Number(lines.find((l) => l.startsWith("pid="))!.slice(4))).toBeLessThan(10);
    expect(lines[lines.length - 1]).toBe("1"); // only the loopback interface
  });

  it("returns the command's exit status and stderr, and the image's Env byte for byte", async () => {
    requireTool(runner, RUNNER_PACKAGES[runner]);
    const r = await runOciEvidence(layout, `/bin/sh -c 'printf "%s" "$GREETING"; echo oops >&2; exit 3'`, { runner });
    expect(r).toEqual({ status: 3, stdout: 'hello $out `x` "q"', stderr: "oops\n" });
  });
});

describe("runOciEvidence", () => {
  it("probes bwrap first", () => {
    requireTool("bwrap", "bubblewrap");
    expect(findOciRunner().runner).toBe("bwrap");
  });

  it("without any runner, fails naming what to install", async () => {
    expect(() => findOciRunner({ searchDirs: [] })).toThrow(MbError);
    expect(() => findOciRunner({ searchDirs: [tempDir("nothing")] })).toThrow(/apt-get install bubblewrap/);
    await expect(runOciEvidence(layout, "/bin/true", { searchDirs: [] })).rejects.toThrow(/no isolation tool .*apt-get install bubblewrap/);
  });

  it("splits the command like a shell without running one: quotes are words, $ and ; are refused", async () => {
    requireTool("bwrap", "bubblewrap");
    expect((await runOciEvidence(layout, `/bin/echo "a  b" 'c$d' e\\ f`)).stdout).toBe("a  b c$d e f\n");
    await expect(runOciEvidence(layout, "/bin/echo $HOME")).rejects.toThrow(/unquoted '\$' is shell syntax/);
    await expect(runOciEvidence(layout, "/bin/echo a; /bin/echo b")).rejects.toThrow(/unquoted ';'/);
    await expect(runOciEvidence(layout, "/bin/echo 'open")).rejects.toThrow(/unterminated single quote/);
  });

  it("a command missing from the image is a non-zero status, not a crash", async () => {
    requireTool("bwrap", "bubblewrap");
    const r = await runOciEvidence(layout, "/no/such/program");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no\/such\/program/);
  });

  it("leaves no temporary rootfs behind", async () => {
    requireTool("bwrap", "bubblewrap");
    const tmp = tempDir("tmpdir");
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await runOciEvidence(layout, "/bin/true");
    } finally {
      process.env.TMPDIR = before;
      if (before === undefined) delete process.env.TMPDIR;
    }
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("unpacking layers in order with whiteouts, like umoci", () => {
  let layered: string;
  beforeAll(() => {
    const lower = treeOf({
      "etc/keep": "lower keep\n",
      "etc/gone": "lower gone\n",
      "etc/over": "lower over\n",
      "opaque/old": "old\n",
      "opaque/sub/older": "older\n",
      "gonedir/a": "a\n",
    });
    mkdirSync(join(lower, "ro"), { mode: 0o555 });
    writeFileSync(join(lower, "etc/mode"), "m\n", { mode: 0o640 });
    symlinkSync("../etc/keep", join(lower, "opaque/link"));
    const upper = treeOf({
      "etc/.wh.gone": "",
      "etc/over": "upper over\n",
      "opaque/.wh..wh..opq": "",
      "opaque/new": "new\n",
      ".wh.gonedir": "",
      "added/file": "added\n",
    });
    layered = buildWithScript(ociImage({ name: "layered", layers: [{ name: "lower", source: lower }, { name: "upper", source: upper }] }));
  });

  const snapshot = (root: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(root, rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const p = join(root, r);
        const st = lstatSync(p);
        const mode = (st.mode & 0o7777).toString(8);
        if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)}`;
        else if (st.isDirectory()) {
          out[r] = `dir ${mode}`;
          walk(r);
        } else out[r] = `file ${mode} ${readFileSync(p, "utf8")}`;
      }
    };
    walk("");
    return out;
  };

  it("gives the same tree as umoci unpack", async () => {
    const umoci = requireTool("umoci");
    const bundle = join(tempDir("umoci"), "bundle");
    must(umoci, ["unpack", "--image", `${layered}:layered`, bundle]);
    const ours = join(tempDir("ours"), "rootfs");
    expect(await unpackOciImage(layered, ours)).toMatchObject({ layers: 2 });
    expect(snapshot(ours)).toEqual(snapshot(join(bundle, "rootfs")));
    expect(snapshot(ours)).toMatchObject({
      "etc/keep": "file 644 lower keep\n",
      "etc/over": "file 644 upper over\n",
      "etc/mode": "file 640 m\n",
      "opaque/new": "file 644 new\n",
      "added/file": "file 644 added\n",
      ro: "dir 755", // the original's chmod -R u+w made it writable in the layer
    });
    expect(snapshot(ours)["etc/gone"]).toBeUndefined();
    expect(snapshot(ours)["opaque/old"]).toBeUndefined();
    expect(snapshot(ours)["gonedir"]).toBeUndefined();
    expect(statSync(ours).isDirectory()).toBe(true);
  });

  it("runs a command that sees the merged tree", async () => {
    requireTool("bwrap", "bubblewrap");
    // The layered image has no shell: run busybox from a third layer.
    const img = buildWithScript(
      ociImage({
        name: "merged",
        layers: [
          { name: "busybox", source: busyboxRoot() },
          { name: "data", source: treeOf({ "data/a": "first\n", "data/b": "gone\n" }) },
          { name: "change", source: treeOf({ "data/a": "second\n", "data/.wh.b": "" }) },
        ],
      }),
    );
    const r = await runOciEvidence(img, "/bin/sh -c 'cat /data/a; ls /data'");
    expect(r).toEqual({ status: 0, stdout: "second\na\n", stderr: "" });
  });
});

describe("unpacking never writes outside the rootfs", () => {
  it("a member under a symlink to / that an earlier layer made lands inside the rootfs", async () => {
    const dir = tempDir("crafted");
    const a = join(dir, "a");
    mkdirSync(a);
    symlinkSync("/", join(a, "escape"));
    const b = join(dir, "b");
    mkdirSync(join(b, "escape"), { recursive: true });
    writeFileSync(join(b, "escape/mb-oci-pwned"), "x\n");
    // Layer 2 holds escape/mb-oci-pwned but no escape/ directory entry, so the symlink stays in the way.
    const img = handLayout([tarOf(a, ["escape"]), tarOf(b, ["escape/mb-oci-pwned"])]);
    const root = join(dir, "rootfs");
    await unpackOciImage(img, root);
    expect(readFileSync(join(root, "mb-oci-pwned"), "utf8")).toBe("x\n");
    expect(() => statSync("/mb-oci-pwned")).toThrow();
  });

  it("a read-only directory is filled, then keeps its mode", async () => {
    const dir = tempDir("ro");
    mkdirSync(join(dir, "ro"));
    writeFileSync(join(dir, "ro/f"), "f\n");
    const layer = tarOf(dir, ["ro", "ro/f"], ["--mode=u-w"]);
    const root = join(dir, "rootfs");
    await unpackOciImage(handLayout([layer]), root);
    expect(statSync(join(root, "ro")).mode & 0o777).toBe(0o555);
    expect(readFileSync(join(root, "ro/f"), "utf8")).toBe("f\n");
  });

  it("a layer whose bytes do not match its digest is refused, and nothing runs", async () => {
    const dir = tempDir("corrupt");
    writeFileSync(join(dir, "x"), "x\n");
    const img = handLayout([tarOf(dir, ["x"])]);
    const blobs = join(img, "blobs/sha256");
    const layer = readdirSync(blobs).find((b) => readFileSync(join(blobs, b)).length > 1000)!;
    const bytes = readFileSync(join(blobs, layer));
    bytes[600] ^= 1; // inside the member's data: still a readable tar
    writeFileSync(join(blobs, layer), bytes);
    await expect(unpackOciImage(img, join(dir, "rootfs"))).rejects.toThrow(/layer 0 does not match the image/);
    await expect(runOciEvidence(img, "/x")).rejects.toThrow(/layer 0 does not match the image/);
  });

  it("a member named ../x is refused", async () => {
    const dir = tempDir("dotdot");
    writeFileSync(join(dir, "x"), "x\n");
    const img = handLayout([tarOf(dir, ["x"], ["-P", "--transform=s,^,../,"])]);
    await expect(unpackOciImage(img, join(dir, "rootfs"))).rejects.toThrow(/layer member "\.\.\/x" leaves the root/);
  });
});
