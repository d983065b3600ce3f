// Cross-repository blob mounts in `mb push`, against a real docker-registry: the store's record of blob locations
// (.cache/blob-locations.json) names repository A after a push to it, so a push of the same image to B mounts every
// blob from A (POST ...?mount=<digest>&from=A in the registry's access log) and the image reads back whole; a stale
// record (a repository that never had the blob, one whose storage was removed) falls back to an upload and is
// dropped, as is a mount refused with an error status; a corrupt record is ignored and rewritten; the bearer-token flow
// asks for pull on the source too.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { RegistryClient, type OciDigest } from "../../src/registry/index.js";
import { mbAsync } from "../support/mb.js";
import { startProxy, startRegistry, type TestRegistry } from "../support/registry.js";
import { registryWithImage } from "../support/registry-image.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

let reg: TestRegistry;
let store: string;
let layout: string;
const dirs = registryWithImage("mb-mounts", (r, s, l) => {
  [reg, store, layout] = [r, s, l];
});

const json = (path: string): any => JSON.parse(readFileSync(path, "utf8"));
const recordFile = (): string => join(store, ".cache", "blob-locations.json");
const manifestDigest = (): string => json(join(layout, "index.json")).manifests[0].digest;
/** The config and layer digests of the image. */
function blobDigests(): string[] {
  const manifest = json(join(layout, "blobs", ...manifestDigest().split(":")));
  return [manifest.config.digest, ...manifest.layers.map((l: { digest: string }) => l.digest)];
}
const mountRequests = (repo: string, from: string, status: number): string[] =>
  reg.requests().filter((r) => r.startsWith(`POST /v2/${repo}/blobs/uploads/?mount=`) && r.endsWith(`&from=${from} ${status}`));

/** Pushes the example with --json; returns the final `pushed` event and every event. */
async function pushJson(target: string, registry = reg.host, env?: NodeJS.ProcessEnv): Promise<{ result: any; lines: any[] }> {
  const r = await mbAsync(["push", "--json", "examples/oci-image", `docker://${registry}/${target}`], { store, ...(env ? { env } : {}) });
  expect(r.stderr.split("\n").filter((l) => l.startsWith("mb: error"))).toEqual([]);
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  return { result: lines[lines.length - 1], lines };
}

/** Reads the image back from `repo` with the client: the manifest and every blob, each verified by its digest. */
async function readBack(repo: string, client = new RegistryClient(reg.host)): Promise<void> {
  const m = await client.getManifest(repo, manifestDigest());
  expect(m.digest).toBe(manifestDigest());
  const into = mkdtempSync(join(tmpdir(), "mb-mounts-read-"));
  try {
    for (const d of blobDigests()) await client.getBlob(repo, d as OciDigest, join(into, d.slice(7)));
  } finally {
    rmSync(into, { recursive: true, force: true });
  }
}

describe("mb push mounts blobs the store knows another repository holds", () => {
  it("a first push uploads every blob and records repository a for each", async () => {
    const { result } = await pushJson("a:1");
    expect(result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
    const record = json(recordFile());
    expect(record.version).toBe(1);
    for (const d of blobDigests()) expect(record.registries[reg.host][d]).toEqual(["a"]);
  });

  it("a push of the same image to b mounts every blob from a, says so, and b reads back whole", async () => {
    const r = await mbAsync(["push", "examples/oci-image", `docker://${reg.host}/b:1`], { store });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`docker://${reg.host}/b@${manifestDigest()}\ndocker://${reg.host}/b:1\n`);
    for (const d of blobDigests()) expect(r.stderr).toContain(`mb: blob ${d} (`);
    expect(r.stderr.match(/\): mounted from a\n/g)?.length).toBe(2);
    expect(r.stderr).toContain("mb: blobs: 0 uploaded, 2 mounted, 0 already there\n");
    for (const d of blobDigests()) expect(mountRequests("b", "a", 201)).toContain(`POST /v2/b/blobs/uploads/?mount=${encodeURIComponent(d)}&from=a 201`);
    expect(reg.requests().filter((r) => /^(PUT|PATCH) \/v2\/b\/blobs\/uploads\//.test(r))).toEqual([]);
    await readBack("b");
    const skopeo = spawnSync("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/b:1`], { encoding: "utf8" });
    if (skopeo.error) throw new Error(`required tool 'skopeo' is not installed: apt-get install skopeo (${skopeo.error.message})`);
    expect(JSON.parse(skopeo.stdout).Digest).toBe(manifestDigest());
    for (const d of blobDigests()) expect(json(recordFile()).registries[reg.host][d]).toEqual(["b", "a"]);
  });

  it("--json reports each mount with its source and the counts in the result", async () => {
    const { result, lines } = await pushJson("c:1");
    const blobs = lines.filter((e) => e.event === "push-blob");
    expect(blobs.map((b) => [b.how, b.from])).toEqual([
      ["mounted", "b"],
      ["mounted", "b"],
    ]);
    expect(result).toMatchObject({ event: "pushed", digest: manifestDigest(), blobs: { uploaded: 0, existing: 0, mounted: 2 } });
    for (const d of blobDigests()) expect(json(recordFile()).registries[reg.host][d]).toEqual(["c", "b", "a"]);
  });

  it("a blob already in the target is found by HEAD, not mounted, and the record keeps at most three repositories", async () => {
    const { result } = await pushJson("c:2");
    expect(result.blobs).toEqual({ uploaded: 0, existing: 2, mounted: 0 });
    const { result: d } = await pushJson("d:1");
    expect(d.blobs).toEqual({ uploaded: 0, existing: 0, mounted: 2 });
    for (const digest of blobDigests()) expect(json(recordFile()).registries[reg.host][digest]).toEqual(["d", "c", "b"]);
  });

  it("a stale record (a repository that never had the blob, one whose storage is gone) falls back to an upload and is dropped", async () => {
    rmSync(join(reg.storage, "docker/registry/v2/repositories/b"), { recursive: true, force: true });
    const registries = { [reg.host]: Object.fromEntries(blobDigests().map((d) => [d, ["never", "b"]])) };
    writeFileSync(recordFile(), JSON.stringify({ version: 1, registries }));
    const { result, lines } = await pushJson("e:1");
    expect(result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
    expect(lines.filter((e) => e.event === "push-blob").every((b) => b.how === "uploaded" && b.from === undefined)).toBe(true);
    expect(mountRequests("e", "never", 202)).toHaveLength(2);
    expect(mountRequests("e", "b", 202)).toHaveLength(2);
    expect(reg.requests().filter((r) => r.startsWith("DELETE /v2/e/blobs/uploads/"))).toHaveLength(2);
    await readBack("e");
    for (const d of blobDigests()) expect(json(recordFile()).registries[reg.host][d]).toEqual(["e"]);
  });

  it("a corrupt record is ignored (every blob uploaded) and rewritten; one with an unknown key too", async () => {
    writeFileSync(recordFile(), "{ not json");
    const { result } = await pushJson("f:1");
    expect(result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
    for (const d of blobDigests()) expect(json(recordFile()).registries[reg.host][d]).toEqual(["f"]);
    writeFileSync(recordFile(), JSON.stringify({ version: 1, registries: { [reg.host]: Object.fromEntries(blobDigests().map((d) => [d, ["f"]])) }, extra: true }));
    const { result: g } = await pushJson("g:1");
    expect(g.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
    expect(Object.keys(json(recordFile())).sort()).toEqual(["registries", "version"]);
  });

  it("a record of another registry host is never used for a mount", async () => {
    const other = await startRegistry();
    try {
      const { result } = await pushJson("h:1", other.host);
      expect(result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
      expect(other.requests().filter((r) => r.includes("mount="))).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe("a registry that refuses a mount with an error status", () => {
  it("the push falls back to a plain upload and succeeds; the refused source is dropped from the record", async () => {
    const proxy = await startProxy(reg.host, { refuse: (method, url) => (method === "POST" && url.includes("mount=") ? { status: 403, code: "DENIED" } : null) });
    try {
      expect((await pushJson("p:1", proxy.host)).result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
      expect((await pushJson("q:1", proxy.host)).result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
      for (const d of blobDigests()) expect(json(recordFile()).registries[proxy.host][d]).toEqual(["q"]);
      expect(reg.requests().filter((r) => r.startsWith("POST /v2/q/blobs/uploads/ "))).toHaveLength(2);
      await readBack("q");
    } finally {
      await proxy.stop();
    }
  });
});

describe("mounts behind the bearer-token flow", () => {
  it("the token asks for pull on the source: team/b mounts every blob from team/a and reads back", async () => {
    const secured = await startRegistry({ auth: "token" });
    try {
      const authFile = secured.writeAuthFile(dirs.tempDir("token"));
      const env = { REGISTRY_AUTH_FILE: authFile };
      expect((await pushJson("team/a:1", secured.host, env)).result.blobs).toEqual({ uploaded: 2, existing: 0, mounted: 0 });
      expect((await pushJson("team/b:1", secured.host, env)).result.blobs).toEqual({ uploaded: 0, existing: 0, mounted: 2 });
      const mounts = secured.requests().filter((r) => r.startsWith("POST /v2/team/b/blobs/uploads/?mount="));
      expect(mounts.map((r) => r.slice(r.lastIndexOf("&")))).toEqual(["&from=team%2Fa 201", "&from=team%2Fa 201"]);
      await readBack("team/b", new RegistryClient(secured.host, { authFile }));
    } finally {
      await secured.stop();
    }
  });
});
