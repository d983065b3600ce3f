// The tools image's parts (src/engine/tools-image.ts, tools-image-tar.ts): dpkg relation fields, the dependency
// closure (alternatives, virtual packages, the roots' Recommends only, a root not installed), and the tar writer read
// back by GNU tar (long names through pax records, links, modes, one mtime).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DpkgDatabase, parseDpkgStatus, parseRelations } from "../../src/engine/tools-image.js";
import { writeTar } from "../../src/engine/tools-image-tar.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-tools-image");
afterAll(() => dirs.removeAll());

const STATUS = `Package: dpkg
Status: install ok installed
Architecture: amd64
Version: 1.21

Package: tool
Status: install ok installed
Architecture: amd64
Version: 1.0
Pre-Depends: libc6 (>= 2.34)
Depends: absent-lib | libalt:any (>= 1), awk,
 helper [amd64]
Recommends: headers, missing-rec

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36
Recommends: libc-devtools

Package: libc6
Status: install ok installed
Architecture: arm64
Version: 2.36

Package: libalt
Status: install ok installed
Architecture: amd64
Version: 1

Package: mawk
Status: install ok installed
Architecture: amd64
Version: 1.3
Provides: awk

Package: helper
Status: install ok installed
Architecture: all
Version: 2

Package: headers
Status: install ok installed
Architecture: amd64
Version: 1
Depends: libc6

Package: libc-devtools
Status: install ok installed
Architecture: amd64
Version: 1

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 1
`;

describe("the tools image's dpkg reading", () => {
  it("reads relation fields as alternatives, without versions, architectures or qualifiers", () => {
    expect(parseRelations("a (>= 1) | b:any, c [amd64], d <!nocheck>")).toEqual([["a", "b"], ["c"], ["d"]]);
    expect(parseRelations(undefined)).toEqual([]);
  });

  it("keeps installed packages only, continuation lines joined", () => {
    const pkgs = parseDpkgStatus(STATUS);
    expect(pkgs.map((p) => `${p.name}:${p.arch}`)).not.toContain("removed:amd64");
    expect(pkgs.find((p) => p.name === "tool")!.depends).toEqual([["libc6"], ["absent-lib", "libalt"], ["awk"], ["helper"]]);
  });

  it("closes over Depends and Pre-Depends (first installed alternative, virtual packages), the roots' Recommends only, native architecture", () => {
    const db = new DpkgDatabase(parseDpkgStatus(STATUS));
    const closure = db.closure(["tool"]);
    expect(closure.map((p) => `${p.name}:${p.arch}`)).toEqual(["headers:amd64", "helper:all", "libalt:amd64", "libc6:amd64", "mawk:amd64", "tool:amd64"]);
    expect(() => db.closure(["nope"])).toThrow(expect.objectContaining({ code: "tools-image.missing", message: "the tools image needs the Debian package 'nope', which is not installed on this machine" }));
  });
});

describe("the tools image's tar writer", () => {
  it("writes what GNU tar reads back: long names, links, modes, owner 0, one mtime, identical bytes for the same members", () => {
    const dir = dirs.tempDir("tar");
    const src = join(dir, "src");
    mkdirSync(src);
    writeFileSync(join(src, "f"), "content\n");
    const long = `usr/${"d".repeat(120)}/${"n".repeat(90)}`;
    const members = [
      { kind: "dir", name: "usr", mode: 0o755 },
      { kind: "file", name: "usr/f", mode: 0o755, size: 8, from: join(src, "f") },
      { kind: "data", name: long, mode: 0o644, data: Buffer.from("x") },
      { kind: "symlink", name: "bin", target: "usr/bin" },
      { kind: "symlink", name: "usr/far", target: `/${"t".repeat(150)}` },
      { kind: "dir", name: "tmp", mode: 0o1777 },
    ] as const;
    writeTar(join(dir, "a.tar"), members, 1);
    writeTar(join(dir, "b.tar"), members, 1);
    expect(spawnSync("cmp", [join(dir, "a.tar"), join(dir, "b.tar")]).status).toBe(0);
    const r = spawnSync("tar", ["--numeric-owner", "--utc", "-tvf", join(dir, "a.tar")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l !== "").map((l) => l.replace(/\s+/g, " "))).toEqual([
      "drwxr-xr-x 0/0 0 1970-01-01 00:00 usr/",
      "-rwxr-xr-x 0/0 8 1970-01-01 00:00 usr/f",
      `-rw-r--r-- 0/0 1 1970-01-01 00:00 ${long}`,
      "lrwxrwxrwx 0/0 0 1970-01-01 00:00 bin -> usr/bin",
      `lrwxrwxrwx 0/0 0 1970-01-01 00:00 usr/far -> /${"t".repeat(150)}`,
      "drwxrwxrwt 0/0 0 1970-01-01 00:00 tmp/",
    ]);
    const x = dirs.tempDir("x");
    expect(spawnSync("tar", ["-xf", join(dir, "a.tar"), "-C", x]).status).toBe(0);
    expect(spawnSync("cat", [join(x, "usr/f")], { encoding: "utf8" }).stdout).toBe("content\n");
  });
});
