// The binary cache end to end, with a real registry (Debian's docker-registry on loopback, test/support/registry.ts):
// store A builds examples/oci-image and pushes its closure; store B (the same store directory, as on another machine:
// A is moved aside first) builds it with the substituter and runs no step. Entries that are tampered with, wrongly
// signed, unsigned or signed by an untrusted key are refused with a warning and built locally; a cache that is down
// or does not answer is skipped with a warning; a secret key readable by others is refused.
import { appendFileSync, chmodSync, existsSync, readFileSync, renameSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BinaryCache } from "../../src/cache/remote.js";
import { parseSecretKey } from "../../src/cache/keys.js";
import { entryTag, MANIFEST_TYPE, SIGNATURE_ANNOTATION } from "../../src/cache/artifact.js";
import { Store } from "../../src/engine/store.js";
import type { BuildEvent } from "../../src/engine/events.js";
import { freePort, startRegistry, type TestRegistry } from "../support/registry.js";
import { bashStep, cleanup, events, lastLine, mb, output, ROOT, spec, tempDir, writeSpec } from "../engine/helpers.js";

let registry: TestRegistry;
let dir: string;
let S: string;
let moved = 0;
const OCI = join(ROOT, "examples/oci-image");
let tiny: string;
let ociPath: string;
let tinyPath: string;
let tamperPath: string;
const cache = (repo: string) => `docker://${registry.host}/${repo}`;
const key = () => join(dir, "k.sec");
const pub = () => join(dir, "k.pub");

/** Moves the store at S aside (another machine's store); the next build starts from an empty store at the same path. */
function freshStore(): void {
  if (existsSync(S)) renameSync(S, join(dir, `old-${moved++}`));
}

function build(target: string, substituters: string[], trusted: string[] = [pub()], env: NodeJS.ProcessEnv = {}) {
  const args = ["build", target, "--no-out-link", "--json", ...substituters.flatMap((s) => ["--substituter", s]), ...trusted.flatMap((k) => ["--trusted-key", k])];
  const r = mb(args, { store: S, env });
  if (r.status !== 0) throw new Error(`mb build exited ${r.status}:\n${r.stderr}`);
  const evs = events(r.stdout);
  return { evs, path: of(evs, "result")[0]?.storePath ?? "", stderr: r.stderr };
}

const of = <K extends BuildEvent["event"]>(evs: BuildEvent[], kind: K) => evs.filter((e): e is Extract<BuildEvent, { event: K }> => e.event === kind);

beforeAll(async () => {
  registry = await startRegistry({ auth: "none" });
  dir = tempDir("cache");
  S = join(dir, "store");
  for (const k of ["k", "other"]) expect(mb(["key", "generate", join(dir, k)]).status).toBe(0);
  tiny = writeSpec(dir, "tiny.json", spec({ name: "tiny", tools: ["bash"], ops: [bashStep("write", 'echo "hello from tiny" > "$out/hello"')], outputs: [output("hello", "hello")] }));
  const tamper = writeSpec(dir, "tamper.json", spec({ name: "tamper-me", tools: ["bash"], ops: [bashStep("write", 'echo "tamper me" > "$out/t"')], outputs: [output("t", "t")] }));
  expect(mb(["build", tamper, "--no-out-link"], { store: S }).status).toBe(0);
  tamperPath = lastLine(mb(["path", tamper], { store: S }).stdout);
  // Store A: build both, push their closures to the good cache, and the tiny one to the caches the refusals read.
  for (const t of [OCI, tiny]) expect(mb(["build", t, "--no-out-link"], { store: S }).status).toBe(0);
  ociPath = lastLine(mb(["path", OCI], { store: S }).stdout);
  tinyPath = lastLine(mb(["path", tiny], { store: S }).stdout);
  const push = (repo: string, k: string, ...paths: string[]) => mb(["store", "push", cache(repo), ...paths, "--key", k, "--json"], { store: S });
  const first = push("good", key(), OCI, tinyPath); // a builder (its built result) and a store path
  expect(first.status, first.stderr).toBe(0);
  expect(JSON.parse(first.stdout).pushed.map((p: { storePath: string }) => p.storePath)).toEqual([expect.stringMatching(/-busybox-static-rootfs$/), ociPath, tinyPath]);
  expect(push("untrusted", join(dir, "other.sec"), tinyPath).status).toBe(0);
  expect(push("tampered", key(), tamperPath).status).toBe(0);
  const store = new Store(S);
  const meta = store.readMeta(store.mustEntry(tinyPath))!;
  const k = parseSecretKey(readFileSync(key(), "utf8"));
  const c = (repo: string) => new BinaryCache(cache(repo));
  // Signed by the trusted key, but its content is not what the signature says.
  await c("wrong-content").push(tinyPath, { ...meta, outputHash: `sha256:${"0".repeat(64)}` }, k, dir);
  // Unsigned, and signed over other fields: the good manifest re-put without its signature / with another entry's.
  for (const repo of ["unsigned", "bad-signature"]) await c(repo).push(tinyPath, meta, k, dir);
  const rewrite = async (repo: string, change: (annotations: Record<string, string>) => void) => {
    const m = await c(repo).client.getManifest(repo, entryTag(tinyPath), [MANIFEST_TYPE]);
    const json = JSON.parse(Buffer.from(m.bytes).toString("utf8"));
    change(json.annotations);
    await c(repo).client.putManifest(repo, entryTag(tinyPath), MANIFEST_TYPE, Buffer.from(JSON.stringify(json)));
  };
  await rewrite("unsigned", (a) => delete a[SIGNATURE_ANNOTATION]);
  const otherSig = (await c("good").client.getManifest("good", entryTag(ociPath), [MANIFEST_TYPE])).bytes;
  await rewrite("bad-signature", (a) => (a[SIGNATURE_ANNOTATION] = JSON.parse(Buffer.from(otherSig).toString("utf8")).annotations[SIGNATURE_ANNOTATION]));
  freshStore();
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  cleanup();
});

describe("a binary cache in an OCI registry", () => {
  it("store B fetches every entry of examples/oci-image from the cache and runs 0 steps; the result is the same store path and verifies", () => {
    freshStore();
    const { evs, path } = build(OCI, [cache("good")]);
    expect(path).toBe(ociPath);
    expect(of(evs, "plan")).toEqual([{ event: "plan", builds: [], fetches: [{ name: "busybox-static-rootfs", storePath: expect.any(String) }, { name: "busybox-shell-oci-image", storePath: ociPath }] }]);
    expect(of(evs, "substituted").map((e) => [e.name, e.substituter])).toEqual([["busybox-static-rootfs", cache("good")], ["busybox-shell-oci-image", cache("good")]]);
    expect(evs.filter((e) => e.event === "step-start" || e.event === "build-start" || e.event === "substituter-warning")).toEqual([]);
    const verify = mb(["store", "verify"], { store: S });
    expect(verify.stdout).toBe(`verified 2 entries in ${S}: ok\n`);
    const meta = JSON.parse(readFileSync(join(S, ".meta", `${ociPath.slice(S.length + 1)}.json`), "utf8"));
    expect(meta.substitutedFrom).toBe(cache("good"));
    // A second push of what is there uploads nothing.
    const again = mb(["store", "push", cache("good"), ociPath, "--key", key(), "--json"], { store: S });
    expect(JSON.parse(again.stdout)).toMatchObject({ pushed: [], present: [expect.any(String), ociPath] });
  }, 300_000);

  it("the human progress says what was fetched", () => {
    freshStore();
    const r = mb(["build", tiny, "--no-out-link", "--substituter", cache("good"), "--trusted-key", pub()], { store: S });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`mb: 1 entry to fetch from a binary cache: tiny\n`);
    expect(r.stderr).toMatch(new RegExp(`mb: fetched tiny from ${cache("good").replace(/[.]/g, "\\.")} \\(0\\.0 MiB, signature and content hash checked\\) in [0-9.]+s: ${tinyPath}\n`));
    expect(lastLine(r.stdout)).toBe(tinyPath);
  });

  const refusals: [string, string, RegExp][] = [
    ["wrong-content", "a wrong-content entry signed by the trusted key", /refused: its content hashes to sha256:[0-9a-f]{64}, not the signed sha256:0{64}; building it locally/],
    ["unsigned", "an unsigned entry", /refused: it is not signed; building it locally/],
    ["bad-signature", "an entry whose signature is another entry's", /refused: its signature by 'k' does not match its store path, content hash and references; building it locally/],
    ["untrusted", "an entry signed by an untrusted key", /refused: it is signed by the key 'other', which is not trusted \(trusted: k\); building it locally/],
  ];
  for (const [repo, what, reason] of refusals) {
    it(`${what} is refused with a warning naming it, and built locally`, () => {
      freshStore();
      const { evs, path } = build(tiny, [cache(repo)]);
      expect(path).toBe(tinyPath);
      const warnings = of(evs, "substituter-warning");
      expect(warnings).toEqual([{ event: "substituter-warning", substituter: cache(repo), name: "tiny", storePath: tinyPath, reason: expect.stringMatching(reason) }]);
      expect(of(evs, "substituted")).toEqual([]);
      expect(of(evs, "build-done").map((e) => e.name)).toEqual(["tiny"]);
      expect(readFileSync(join(path, "hello"), "utf8")).toBe("hello from tiny\n");
    });
  }

  it("a layer blob modified in the registry's storage is refused (its digest no longer matches) and built locally", async () => {
    const m = await new BinaryCache(cache("tampered")).client.getManifest("tampered", entryTag(tamperPath), [MANIFEST_TYPE]);
    const digest: string = JSON.parse(Buffer.from(m.bytes).toString("utf8")).layers[0].digest;
    const hex = digest.slice("sha256:".length);
    appendFileSync(join(registry.storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data"), "tampered");
    freshStore();
    const tamper = join(dir, "tamper.json");
    const { evs, path } = build(tamper, [cache("tampered")]);
    expect(path).toBe(tamperPath);
    expect(of(evs, "substituter-warning")).toEqual([
      {
        event: "substituter-warning",
        substituter: cache("tampered"),
        name: "tamper-me",
        storePath: tamperPath,
        reason: expect.stringMatching(new RegExp(`^not fetched: registry: the blob .*@${digest} has digest sha256:[0-9a-f]{64}, not ${digest}: refused, nothing kept; building it locally$`)),
      },
    ]);
    expect(of(evs, "build-done").map((e) => e.name)).toEqual(["tamper-me"]);
  });

  it("a registry that is down, or that accepts connections and never answers, is skipped with a warning; the build goes on", async () => {
    const port = await freePort();
    freshStore();
    const down = build(tiny, [`docker://127.0.0.1:${port}/cache`]);
    expect(of(down.evs, "substituter-warning")).toEqual([
      { event: "substituter-warning", substituter: `docker://127.0.0.1:${port}/cache`, name: null, storePath: null, reason: expect.stringMatching(/^it cannot be reached \(ECONNREFUSED\); skipped, building locally what it would have given$/) },
    ]);
    expect(of(down.evs, "build-done").map((e) => e.name)).toEqual(["tiny"]);
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      freshStore();
      const slow = build(tiny, [`docker://127.0.0.1:${silentPort}/cache`, cache("good")], [pub()], { MB_SUBSTITUTER_TIMEOUT: "1" });
      expect(of(slow.evs, "substituter-warning")).toEqual([
        { event: "substituter-warning", substituter: `docker://127.0.0.1:${silentPort}/cache`, name: null, storePath: null, reason: "it did not answer within 1.0 s; skipped, building locally what it would have given" },
      ]);
      // The next substituter still serves it.
      expect(of(slow.evs, "substituted").map((e) => e.substituter)).toEqual([cache("good")]);
    } finally {
      silent.close();
    }
  });

  it("bad input: a secret key readable by others, a substituter without a trusted key, a cache URL with a tag (exit 2); pushing what is not built (exit 1)", () => {
    const loose = join(dir, "loose");
    expect(mb(["key", "generate", loose]).status).toBe(0);
    chmodSync(`${loose}.sec`, 0o644);
    const r = mb(["store", "push", cache("good"), tinyPath, "--key", `${loose}.sec`], { store: S });
    expect(r).toMatchObject({ status: 2, stdout: "" });
    expect(r.stderr).toBe(`mb: error: the secret key '${loose}.sec' is accessible by group or others (mode 0644); refusing to use it\nmb: hint: chmod 600 '${loose}.sec'\n`);
    const noKey = mb(["build", tiny, "--no-out-link", "--substituter", cache("good")], { store: S });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain("mb: error: a substituter is given but no trusted key: entries are used only when signed by a trusted key\n");
    const tagged = mb(["build", tiny, "--no-out-link", "--substituter", `${cache("good")}:latest`, "--trusted-key", pub()], { store: S });
    expect(tagged.status).toBe(2);
    expect(tagged.stderr).toContain("names a tag or digest; a binary cache is a repository");
    expect(mb(["key", "generate", loose]).stderr).toContain(`'${loose}.sec' exists: mb key generate never overwrites a key`);
    freshStore();
    const unbuilt = mb(["store", "push", cache("good"), tiny, "--key", key()], { store: S });
    expect(unbuilt.status).toBe(1);
    expect(unbuilt.stderr).toBe(`mb: error: ${tinyPath} is not in the store ${S}\nmb: hint: build it first: mb build ${tiny}\n`);
  });
});
