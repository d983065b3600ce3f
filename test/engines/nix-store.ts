// A test-private Nix (Debian's nix-bin 2.8) for nix-build: its own store, state and log directories under one
// temporary directory (NIX_STORE_DIR, NIX_STATE_DIR, NIX_LOG_DIR; the store path prefix is that directory, not /nix),
// its own nix.conf (NIX_CONF_DIR): no build users group (the tests run as root), no substituters (no network), no
// channels (NIX_PATH empty; the expressions use no nixpkgs). The sandbox is on: each build sees only its inputs and
// the host paths its derivation asks for in __impureHostDeps, which this nix.conf allows (NIX_HOST_PATHS). Nothing
// under /nix or the user's profile is touched: a result link is never made (--no-out-link), HOME, XDG_CACHE_HOME and
// TMPDIR (where Nix makes build directories) are inside the temporary directory too.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NIX_HOST_PATHS } from "../../src/backends/nix.js";

/** The result of nix-build. */
export interface NixRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A private Nix under `dir`: `build(file)` runs nix-build on an expression file and returns its result. */
export function privateNix(dir: string, opts: { sandbox: boolean } = { sandbox: true }): { storeDir: string; build(file: string): NixRun } {
  const probe = spawnSync("nix-build", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error("nix-build is required for this test and could not be run: apt-get install nix-bin");
  const storeDir = join(dir, "store");
  for (const d of ["etc", "tmp", "home", "cache"]) mkdirSync(join(dir, d), { recursive: true });
  const conf = [
    "build-users-group =",
    `sandbox = ${opts.sandbox ? "true" : "false"}`,
    "sandbox-paths =",
    `allowed-impure-host-deps = ${NIX_HOST_PATHS.join(" ")}`,
    "substituters =",
    "experimental-features =",
    "",
  ].join("\n");
  writeFileSync(join(dir, "etc", "nix.conf"), conf);
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: join(dir, "home"),
    XDG_CACHE_HOME: join(dir, "cache"),
    TMPDIR: join(dir, "tmp"),
    NIX_STORE_DIR: storeDir,
    NIX_STATE_DIR: join(dir, "var"),
    NIX_LOG_DIR: join(dir, "log"),
    NIX_CONF_DIR: join(dir, "etc"),
    NIX_PATH: "",
  };
  return {
    storeDir,
    build(file) {
      const r = spawnSync("nix-build", [file, "--no-out-link"], { env, encoding: "utf8", maxBuffer: 1 << 26 });
      if (r.error) throw r.error;
      return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
