// A registry for the benches: Debian's docker-registry (distribution 2.8) on a free loopback port, its storage and
// config in a temporary directory of its own; stop() ends it and removes the directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts the registry and waits until /v2/ answers; `{ host, storage, stop }`. */
export async function startBenchRegistry() {
  const dir = mkdtempSync(join(tmpdir(), "mb-bench-registry-"));
  const host = `127.0.0.1:${await freePort()}`;
  const config = join(dir, "config.yml");
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "storage")}\nhttp:\n  addr: ${host}\n`);
  const proc = spawn("/usr/bin/docker-registry", ["serve", config], { stdio: "ignore" });
  proc.on("error", (e) => {
    throw new Error(`docker-registry (Debian package docker-registry) cannot start: ${e.message}`);
  });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200) throw new Error("docker-registry did not answer within 20 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    storage: join(dir, "storage"),
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
