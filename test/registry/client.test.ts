// The OCI distribution client against a real registry (Debian's docker-registry, distribution 2.8): anonymous,
// htpasswd basic auth from an auth file, and the bearer-token flow; uploads (monolithic, chunked, skipped, mounted),
// downloads verified by digest, and the clear errors (unreachable, wrong password, missing tag, digest mismatch).
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { RegistryClient, type OciDigest } from "../../src/registry/index.js";
import { freePort, startProxy, startRegistry, type TestRegistry } from "../support/registry.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-registry-client");
afterAll(() => dirs.removeAll());

/** A blob file of `size` random bytes, with its digest. */
function blob(dir: string, size: number, name = `blob-${size}`): { file: string; digest: OciDigest; size: number; bytes: Buffer } {
  const bytes = randomBytes(size);
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return { file, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}` as OciDigest, size, bytes };
}

/** A minimal OCI image manifest over a config blob. */
function manifestOf(config: { digest: string; size: number }): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
      layers: [],
    }),
  );
}

/** Runs `fn` and returns the MbError it throws (failing if it throws anything else or nothing). */
async function mbErrorOf(fn: () => Promise<unknown>): Promise<MbError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof MbError) return e;
    throw e;
  }
  throw new Error("expected an MbError");
}

describe("anonymous registry", () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry();
    client = new RegistryClient(reg.host, { chunkSize: 64 * 1024 });
    dir = dirs.tempDir("anon");
  });
  afterAll(async () => reg?.stop());

  it("uses plain HTTP for the loopback registry", () => {
    expect(client.baseUrl).toBe(`http://${reg.host}`);
  });

  it("uploads a small blob in one PUT, then skips it when present", async () => {
    const b = blob(dir, 1000);
    expect(await client.hasBlob("app", b.digest)).toBe(false);
    expect(await client.pushBlob("app", b.digest, b.size, b.file)).toBe("uploaded");
    expect(reg.requests().filter((r) => r.startsWith("PATCH")).length).toBe(0);
    const puts = reg.requests().filter((r) => r.startsWith("PUT /v2/app/blobs/uploads/")).length;
    expect(puts).toBe(1);
    expect(await client.pushBlob("app", b.digest, b.size, b.file)).toBe("exists");
    expect(reg.requests().filter((r) => r.startsWith("PUT /v2/app/blobs/uploads/")).length).toBe(puts);
    expect(reg.requests().filter((r) => r.startsWith("POST /v2/app/blobs/uploads/")).length).toBe(1);
  });

  it("uploads a blob above the chunk size in PATCH chunks, and downloads it verified", async () => {
    const b = blob(dir, 200 * 1024 + 17);
    expect(await client.pushBlob("app", b.digest, b.size, b.file)).toBe("uploaded");
    expect(reg.requests().filter((r) => /^PATCH \/v2\/app\/blobs\/uploads\/\S+ 202$/.test(r)).length).toBe(4);
    const dest = join(dir, "downloaded");
    await client.getBlob("app", b.digest, dest);
    expect(readFileSync(dest).equals(b.bytes)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes(".part-"))).toEqual([]);
  });

  it("mounts a blob from another repository instead of uploading it", async () => {
    const b = blob(dir, 3000);
    await client.pushBlob("source", b.digest, b.size, b.file);
    expect(await client.pushBlob("target", b.digest, b.size, b.file, { mountFrom: "source" })).toBe("mounted");
    expect(reg.requests().some((r) => r.startsWith("POST /v2/target/blobs/uploads/?mount=") && r.endsWith(" 201"))).toBe(true);
    expect(await client.hasBlob("target", b.digest)).toBe(true);
  });

  it("puts a manifest under a tag, gets and heads it by tag and digest, and lists tags", async () => {
    const config = blob(dir, 50, "config");
    await client.pushBlob("img", config.digest, config.size, config.file);
    const bytes = manifestOf(config);
    const digest = await client.putManifest("img", "v1", "application/vnd.oci.image.manifest.v1+json", bytes);
    expect(digest).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
    const got = await client.getManifest("img", "v1");
    expect(got).toEqual({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, bytes: new Uint8Array(bytes) });
    expect((await client.getManifest("img", digest)).digest).toBe(digest);
    expect(await client.headManifest("img", "v1")).toEqual({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: bytes.length });
    expect(await client.headManifest("img", "nope")).toBeNull();
    await client.putManifest("img", "v2", "application/vnd.oci.image.manifest.v1+json", bytes);
    expect((await client.listTags("img")).sort()).toEqual(["v1", "v2"]);
  });

  it("a missing tag is a clear error naming the reference (exit 1)", async () => {
    const e = await mbErrorOf(() => client.getManifest("img", "missing"));
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`docker://${reg.host}/img:missing`);
    expect(e.message).toContain("404");
    expect(e.message).toContain("MANIFEST_UNKNOWN");
  });
});

describe("a digest mismatch on pull", () => {
  let reg: TestRegistry;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let proxyHost: string;
  beforeAll(async () => {
    reg = await startRegistry();
    // a registry that lies: the proxy flips the last byte of every blob it serves
    proxy = await startProxy(reg.host, {
      transform: (_method, url, body) => {
        if (/\/blobs\/sha256:/.test(url) && body.length > 0) body[body.length - 1]! ^= 0xff;
        return body;
      },
    });
    proxyHost = proxy.host;
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it("is refused naming the reference and both digests, and leaves nothing behind", async () => {
    const dir = dirs.tempDir("mismatch");
    const b = blob(dir, 4000);
    await new RegistryClient(reg.host).pushBlob("app", b.digest, b.size, b.file);
    const out = dirs.tempDir("mismatch-out");
    const e = await mbErrorOf(() => new RegistryClient(proxyHost).getBlob("app", b.digest, join(out, "blob")));
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`docker://${proxyHost}/app@${b.digest}`);
    expect(e.message).toContain(b.digest);
    expect(e.message).toMatch(/has digest sha256:[0-9a-f]{64}, not sha256:/);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("htpasswd basic auth", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "htpasswd" });
  });
  afterAll(async () => reg?.stop());

  it("reads the credentials from an auth file (authFile, or REGISTRY_AUTH_FILE)", async () => {
    const dir = dirs.tempDir("basic");
    const authFile = reg.writeAuthFile(dir);
    const b = blob(dir, 100);
    expect(await new RegistryClient(reg.host, { authFile }).pushBlob("app", b.digest, b.size, b.file)).toBe("uploaded");
    const viaEnv = new RegistryClient(reg.host, { env: { REGISTRY_AUTH_FILE: authFile, HOME: dir } });
    expect(await viaEnv.hasBlob("app", b.digest)).toBe(true);
  });

  it("finds ~/.docker/config.json under HOME", async () => {
    const home = dirs.tempDir("home");
    const docker = join(home, ".docker");
    mkdirSync(docker);
    renameSync(reg.writeAuthFile(home), join(docker, "config.json"));
    expect(await new RegistryClient(reg.host, { env: { HOME: home } }).hasBlob("app", `sha256:${"0".repeat(64)}` as OciDigest)).toBe(false);
  });

  it("a wrong password is a clear error naming the registry, the user and the file", async () => {
    const authFile = reg.writeAuthFile(dirs.tempDir("wrong"), "not-the-password");
    const e = await mbErrorOf(() => new RegistryClient(reg.host, { authFile }).getManifest("app", "v1"));
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`authentication to registry ${reg.host} failed for docker://${reg.host}/app:v1`);
    expect(e.message).toContain(`user 'mb-tester' from ${authFile} were refused`);
  });

  it("no credentials at all is a clear error saying where they were looked for", async () => {
    const home = dirs.tempDir("nohome");
    const e = await mbErrorOf(() => new RegistryClient(reg.host, { env: { HOME: home } }).getManifest("app", "v1"));
    expect(e.message).toContain(`no credentials for ${reg.host} were found in ${join(home, ".docker/config.json")}`);
  });
});

describe("bearer token flow", () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "token" });
  });
  afterAll(async () => reg?.stop());

  it("gets a token from the realm with the credentials, caches it per scope, and pushes and pulls", async () => {
    const dir = dirs.tempDir("token");
    const client = new RegistryClient(reg.host, { authFile: reg.writeAuthFile(dir), chunkSize: 1024 });
    const b = blob(dir, 5000);
    expect(await client.pushBlob("team/app", b.digest, b.size, b.file)).toBe("uploaded");
    const afterPush = reg.tokensIssued();
    expect(await client.pushBlob("team/app", b.digest, b.size, b.file)).toBe("exists");
    expect(reg.tokensIssued()).toBe(afterPush);
    await client.getBlob("team/app", b.digest, join(dir, "back"));
    expect(readFileSync(join(dir, "back")).equals(b.bytes)).toBe(true);
    expect(await client.pushBlob("team/other", b.digest, b.size, b.file, { mountFrom: "team/app" })).toBe("mounted");
  });

  it("a wrong password is refused by the token server: a clear error", async () => {
    const authFile = reg.writeAuthFile(dirs.tempDir("token-wrong"), "nope");
    const e = await mbErrorOf(() => new RegistryClient(reg.host, { authFile }).getManifest("team/app", "v1"));
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`authentication to registry ${reg.host} failed for docker://${reg.host}/team/app:v1`);
    expect(e.message).toContain("token server");
    expect(e.message).toContain("were refused");
  });
});

describe("an unreachable registry", () => {
  it("is a clear error naming the registry and the reference, without retrying a refused connection", async () => {
    const port = await freePort();
    const warnings: string[] = [];
    const e = await mbErrorOf(() => new RegistryClient(`127.0.0.1:${port}`, { warn: (m) => warnings.push(m) }).getManifest("app", "v1"));
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(`cannot reach registry 127.0.0.1:${port} (docker://127.0.0.1:${port}/app:v1): connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(warnings).toEqual([]);
  });
});

describe("retries", () => {
  it("retries a 5xx answer with backoff, then succeeds; a 4xx is not retried", async () => {
    let calls = 0;
    const srv = createServer((req, res) => {
      calls++;
      if (req.url === "/v2/app/tags/list") {
        if (calls <= 2) res.writeHead(503).end("busy");
        else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "app", tags: ["a"] }));
      } else res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    try {
      const warnings: string[] = [];
      const client = new RegistryClient(`127.0.0.1:${port}`, { backoffMs: 1, warn: (m) => warnings.push(m) });
      expect(await client.listTags("app")).toEqual(["a"]);
      expect(warnings.length).toBe(2);
      expect(warnings[0]).toContain("HTTP 503; retrying");
      calls = 0;
      await expect(client.getManifest("app", "x")).rejects.toThrow(/HTTP 404/);
      expect(calls).toBe(1);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
