// `mb push` end to end: the busybox example pushed to a real registry (Debian's docker-registry), then read by tools
// nobody here wrote (skopeo inspect and copy, podman pull and run); resumed after a failed manifest PUT with no tag
// left on the partial image; basic auth from REGISTRY_AUTH_FILE; and the usage errors.
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { RegistryClient } from "../../src/registry/index.js";
import { mbAsync } from "../support/mb.js";
import { startProxy, startRegistry, type TestRegistry } from "../support/registry.js";
import { registryWithImage } from "../support/registry-image.js";

// Real builds and real tools on a loaded machine: generous limits.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let reg: TestRegistry;
let store: string;
let layout: string;
const dirs = registryWithImage("mb-push", (r, s, l) => {
  [reg, store, layout] = [r, s, l];
});

/** The path of a tool the test needs; missing, the test fails naming the Debian package. */
function tool(name: string): string {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`required tool '${name}' is not installed: apt-get install ${name}`);
  return r.stdout.trim();
}

function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: env ?? process.env, maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a program without blocking the event loop (servers of this process keep answering), with a time limit. */
function runAsync(cmd: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { encoding: "utf8", timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") reject(error);
      else resolve({ status: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}

const json = (path: string): any => JSON.parse(readFileSync(path, "utf8"));
const manifestDigest = (): string => json(join(layout, "index.json")).manifests[0].digest;

describe("mb push examples/oci-image", () => {
  it("pushes blobs, manifest and both tags, printing the digest reference and the tag references", async () => {
    const r = await mbAsync(["push", "examples/oci-image", `docker://${reg.host}/busybox:1`, "--tag", "latest"], { store });
    expect(r.stderr).not.toContain("error");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`docker://${reg.host}/busybox@${manifestDigest()}\ndocker://${reg.host}/busybox:1\ndocker://${reg.host}/busybox:latest\n`);
    expect(r.stderr).toMatch(/mb: blob sha256:[0-9a-f]{64} \(\d+ bytes\): uploaded/);
    expect(r.stderr).toContain(`mb: tagged docker://${reg.host}/busybox:latest`);
  });

  it("skopeo inspect shows the tags and the config; skopeo copy to an oci: directory gives the same manifest", () => {
    const skopeo = tool("skopeo");
    const info = JSON.parse(run(skopeo, ["inspect", "--tls-verify=false", `docker://${reg.host}/busybox:latest`]).stdout);
    expect(info.Digest).toBe(manifestDigest());
    expect([...info.RepoTags].sort()).toEqual(["1", "latest"]);
    const manifest = json(join(layout, "blobs", ...manifestDigest().split(":")));
    const config = json(join(layout, "blobs", ...manifest.config.digest.split(":")));
    const remoteConfig = JSON.parse(run(skopeo, ["inspect", "--tls-verify=false", "--config", `docker://${reg.host}/busybox:1`]).stdout);
    expect(remoteConfig).toEqual(config);
    expect(remoteConfig.config.Entrypoint).toEqual(["/bin/sh"]);
    const copy = join(dirs.tempDir("copy"), "oci");
    const copied = run(skopeo, ["copy", "--preserve-digests", "--src-tls-verify=false", `docker://${reg.host}/busybox:1`, `oci:${copy}:copied`]);
    expect(copied.stderr).toBe("");
    expect(copied.status).toBe(0);
    expect(json(join(copy, "index.json")).manifests[0].digest).toBe(manifestDigest());
  });

  it("podman pulls it and runs it: the shell prints ok", () => {
    tool("podman");
    const dir = dirs.tempDir("podman");
    for (const d of ["home", "config", "tmp"]) mkdirSync(join(dir, d));
    const env = { PATH: process.env.PATH, HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "config"), TMPDIR: join(dir, "tmp") };
    const podman = (args: string[]) => run("podman", ["--root", join(dir, "root"), "--runroot", join(dir, "run"), "--storage-driver", "vfs", "--events-backend", "none", ...args], env);
    try {
      const pulled = podman(["pull", "-q", "--tls-verify=false", `docker://${reg.host}/busybox:1`]);
      expect(pulled.stderr).toBe("");
      expect(pulled.status).toBe(0);
      // runc here may not raise rlimits to podman's defaults for root: lower ones are always allowed
      const ran = podman(["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", `${reg.host}/busybox:1`, "-c", "echo ok"]);
      expect(ran.stderr).toBe("");
      expect(ran.stdout).toBe("ok\n");
    } finally {
      podman(["rmi", "-a", "-f"]);
      spawnSync("chmod", ["-R", "u+w", dir]);
    }
  });

  it("a second push uploads nothing and --json prints each event and the result", async () => {
    const r = await mbAsync(["push", "--json", "examples/oci-image", `docker://${reg.host}/busybox:2`], { store });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const blobs = lines.filter((e) => e.event === "push-blob");
    expect(blobs.length).toBe(2);
    expect(blobs.every((b) => b.how === "exists")).toBe(true);
    expect(lines.find((e) => e.event === "push-manifest")).toMatchObject({ digest: manifestDigest(), how: "exists" });
    expect(lines[lines.length - 1]).toEqual({
      event: "pushed",
      storePath: layout,
      digest: manifestDigest(),
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      reference: `docker://${reg.host}/busybox@${manifestDigest()}`,
      tags: [`docker://${reg.host}/busybox:2`],
      manifests: [],
      referrers: [],
      blobs: { uploaded: 0, existing: 2, mounted: 0 },
    });
  });
});

describe("an interrupted push", () => {
  it("leaves no tag when the manifest PUT fails, and a re-run resumes (the blobs already there)", async () => {
    let refusals = 0;
    const proxy = await startProxy(reg.host, {
      refuse: (method, url) => (method === "PUT" && url.startsWith("/v2/resume/manifests/") && refusals++ === 0 ? { status: 403, code: "DENIED" } : null),
    });
    try {
      const failed = await mbAsync(["push", "examples/oci-image", `docker://${proxy.host}/resume:1`], { store });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain(`mb: error: registry: cannot put the manifest docker://${proxy.host}/resume@${manifestDigest()}: HTTP 403 (DENIED: refused by the test proxy)`);
      expect(failed.stderr).not.toMatch(/\n\s+at /);
      const client = new RegistryClient(reg.host);
      expect(await client.headManifest("resume", "1")).toBeNull();
      expect(await client.headManifest("resume", manifestDigest())).toBeNull();
      const again = await mbAsync(["push", "examples/oci-image", `docker://${proxy.host}/resume:1`], { store });
      expect(again.status).toBe(0);
      expect(again.stderr.match(/: already there/g)?.length).toBe(2);
      expect((await client.headManifest("resume", "1"))?.digest).toBe(manifestDigest());
    } finally {
      await proxy.stop();
    }
  });
});

describe("credentials and bad input", () => {
  it("basic auth from REGISTRY_AUTH_FILE; a wrong password is exit 1 naming the reference", async () => {
    const secured = await startRegistry({ auth: "htpasswd" });
    try {
      const dir = dirs.tempDir("auth");
      const good = await mbAsync(["push", "examples/oci-image", `docker://${secured.host}/app:1`], { store, env: { REGISTRY_AUTH_FILE: secured.writeAuthFile(dir) } });
      expect(good.stderr).not.toContain("error");
      expect(good.status).toBe(0);
      const wrongFile = secured.writeAuthFile(dirs.tempDir("wrong"), "wrong-password");
      const bad = await mbAsync(["push", "examples/oci-image", `docker://${secured.host}/app:2`], { store, env: { REGISTRY_AUTH_FILE: wrongFile } });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(`mb: error: authentication to registry ${secured.host} failed for docker://${secured.host}/app@`);
      expect(bad.stderr).toContain(`the credentials of user 'mb-tester' from ${wrongFile} were refused`);
    } finally {
      await secured.stop();
    }
  });

  it("the bearer-token flow: a token from the realm for the credentials of REGISTRY_AUTH_FILE; skopeo reads it back", async () => {
    const secured = await startRegistry({ auth: "token" });
    try {
      const authFile = secured.writeAuthFile(dirs.tempDir("token"));
      const r = await mbAsync(["push", "examples/oci-image", `docker://${secured.host}/team/app:1`], { store, env: { REGISTRY_AUTH_FILE: authFile } });
      expect(r.stderr).not.toContain("error");
      expect(r.status).toBe(0);
      expect(secured.tokensIssued()).toBeGreaterThan(0);
      // asynchronously: the token server runs in this process, so a synchronous spawn would never get its token
      const info = await runAsync(tool("skopeo"), ["inspect", "--tls-verify=false", "--authfile", authFile, `docker://${secured.host}/team/app:1`]);
      expect(info.stderr).toBe("");
      expect(JSON.parse(info.stdout).Digest).toBe(manifestDigest());
    } finally {
      await secured.stop();
    }
  });

  it("a result that is not an OCI image is exit 2 naming it", async () => {
    const r = await mbAsync(["push", "test/fixtures/cli/hello", `docker://${reg.host}/hello:1`], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mb: error: the result of test\/fixtures\/cli\/hello \(\S+-hello\) is not an OCI image layout: it has no oci-layout file\n/m);
  });

  it("a bad reference, a bad --tag, a missing destination and an unreachable registry are clear errors", async () => {
    const badRef = await mbAsync(["push", "examples/oci-image", `docker://${reg.host}/Busybox:1`], { store });
    expect(badRef.status).toBe(2);
    expect(badRef.stderr).toContain(`mb: error: invalid image reference 'docker://${reg.host}/Busybox:1': 'Busybox' is not a repository path component`);
    const badTag = await mbAsync(["push", "examples/oci-image", `docker://${reg.host}/busybox:1`, "--tag", "a/b"], { store });
    expect(badTag.status).toBe(2);
    expect(badTag.stderr).toContain("--tag 'a/b' is not a tag");
    const missing = await mbAsync(["push", "examples/oci-image"], { store });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("push needs a builder and a destination");
    const wrongFlag = await mbAsync(["build", "examples/oci-image", "--tag", "x"], { store });
    expect(wrongFlag.status).toBe(2);
    expect(wrongFlag.stderr).toContain("--tag applies to push only");
    const unreachable = await mbAsync(["push", "examples/oci-image", "docker://127.0.0.1:1/busybox:1"], { store });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain("mb: error: cannot reach registry 127.0.0.1:1 (docker://127.0.0.1:1/busybox@sha256:");
  });
});
