// Docker credential helpers end to end: `mb push` to a real docker-registry behind htpasswd (and one behind a token
// server) with credentials only a helper knows. The helpers are sh scripts written here into a directory put first on
// PATH, implementing `get` and logging each run; HOME and DOCKER_CONFIG are temporary directories. credHelpers beats
// auths and credsStore; credsStore serves a registry base pull and the push in one process with one helper run;
// "credentials not found" is anonymous (the registry's 401 reported as usual); garbage, failures, a missing program
// and a bad helper name are errors naming the helper; an identity token (`<token>`) goes through the OAuth2 flow.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pathPackage } from "../../src/index.js";
import { ociImage } from "../../src/oci/ornament.js";
import { mbAsync, mbBuild } from "../support/mb.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { tempDirs } from "../support/temp-dirs.js";

vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });

const dirs = tempDirs("mb-credhelpers");
let basic: TestRegistry;
let token: TestRegistry;
let store: string;
let helpers: string;
let layout: string;

/** Writes `docker-credential-<name>`: logs `<name> $1 <stdin>` to helpers/log, then runs `body` (which may use $url). */
function helper(name: string, body: string): void {
  const file = join(helpers, `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\nIFS= read -r url || true\nprintf '%s %s %s\\n' '${name}' "$1" "$url" >> '${join(helpers, "log")}'\n${body}\n`);
  chmodSync(file, 0o755);
}

const answer = (user: string, secret: string): string => `printf '{"ServerURL":"%s","Username":"${user}","Secret":"${secret}"}\\n' "$url"`;
const notFound = `echo "credentials not found in native keychain"; exit 1`;

beforeAll(async () => {
  basic = await startRegistry({ auth: "htpasswd" });
  token = await startRegistry({ auth: "token" });
  store = join(dirs.tempDir("store"), "store");
  helpers = dirs.tempDir("bin");
  helper("good", `case "$url" in ${basic.host}) ${answer("mb-tester", basic.password!)};; *) ${notFound};; esac`);
  helper("none", notFound);
  helper("garbage", `echo "this is not JSON"`);
  helper("broken", `echo "the keychain is locked" >&2; exit 3`);
  helper("token", answer("<token>", token.refreshToken!));
  helper("stale", answer("<token>", "refresh-expired"));
  layout = mbBuild("examples/oci-image", store);
});
afterAll(async () => {
  await basic?.stop();
  await token?.stop();
  dirs.removeAll();
});

/** A Docker config.json with `config` in a fresh DOCKER_CONFIG, and the environment of `mb` that reads it. */
function dockerConfig(config: object): { file: string; env: NodeJS.ProcessEnv } {
  const dir = dirs.tempDir("docker");
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return { file: join(dir, "config.json"), env: { HOME: dirs.tempDir("home"), DOCKER_CONFIG: dir, REGISTRY_AUTH_FILE: "", PATH: `${helpers}:${process.env.PATH}` } };
}

/** The helper runs logged since `from` lines. */
const runs = (from = 0): string[] => readFileSync(join(helpers, "log"), "utf8").trim().split("\n").slice(from);
const logged = (): number => runs().filter(Boolean).length;
const push = (ref: string, env: NodeJS.ProcessEnv, target = "examples/oci-image") => mbAsync(["push", target, `docker://${ref}`], { store, env });
const errors = (stderr: string): string[] => stderr.split("\n").filter((l) => l.startsWith("mb: error"));

describe("credentials from a Docker credential helper", () => {
  it("credHelpers for the host wins over auths and credsStore; the helper runs once for the whole push", async () => {
    writeFileSync(join(helpers, "log"), "");
    const wrong = Buffer.from("mb-tester:wrong-password").toString("base64");
    const { env } = dockerConfig({ auths: { [basic.host]: { auth: wrong } }, credHelpers: { [basic.host]: "good" }, credsStore: "none" });
    const r = await push(`${basic.host}/app:1`, env);
    expect(errors(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(basic.requests().filter((l) => l.startsWith("HEAD /v2/app/blobs/")).length).toBeGreaterThan(1);
    expect(runs()).toEqual([`good get ${basic.host}`]);
  });

  it("credsStore serves a registry base pull and the push of the image on it, one helper run in the process", async () => {
    const skopeo = spawnSync("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", `mb-tester:${basic.password}`, `oci:${layout}`, `docker://${basic.host}/base:1`], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: dirs.tempDir("skopeo-home") },
    });
    if (skopeo.error) throw new Error(`required tool 'skopeo' is not installed: apt-get install skopeo (${skopeo.error.message})`);
    expect(skopeo.stderr).toBe("");
    const dir = dirs.tempDir("spec");
    mkdirSync(join(dir, "rootfs/app"), { recursive: true });
    writeFileSync(join(dir, "rootfs/app/hello.txt"), "hello\n");
    const spec = join(dir, "app.json");
    writeFileSync(spec, JSON.stringify(ociImage({ name: "app", base: `docker://${basic.host}/base:1`, layers: [{ name: "app", source: pathPackage("./rootfs") }] })));
    const before = logged();
    const { env } = dockerConfig({ auths: { [basic.host]: {} }, credsStore: "good" });
    const r = await push(`${basic.host}/on-base:1`, env, spec);
    expect(errors(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(basic.requests()).toContain(`GET /v2/base/manifests/1 200`);
    expect(runs(before)).toEqual([`good get ${basic.host}`]);
  });

  it('"credentials not found" is anonymous: the registry\'s 401 is the usual authentication error, naming the helper', async () => {
    const { env, file } = dockerConfig({ credHelpers: { [basic.host]: "none" } });
    const r = await push(`${basic.host}/app:2`, env);
    expect(r.status).toBe(1);
    expect(errors(r.stderr)[0]).toContain(`mb: error: authentication to registry ${basic.host} failed for docker://${basic.host}/app@sha256:`);
    expect(r.stderr).toContain(`no credentials for ${basic.host} were found in ${file}; docker-credential-none (credHelpers["${basic.host}"] of ${file}) answered "credentials not found"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a helper that prints garbage or fails is exit 1 naming it (with its stderr)", async () => {
    const garbage = dockerConfig({ credsStore: "garbage" });
    const g = await push(`${basic.host}/app:3`, garbage.env);
    expect(g.status).toBe(1);
    expect(errors(g.stderr)).toEqual([`mb: error: credential helper docker-credential-garbage (credsStore of ${garbage.file}) printed no JSON on stdout (17 bytes) for ${basic.host}`]);
    const broken = dockerConfig({ credHelpers: { [basic.host]: "broken" } });
    const b = await push(`${basic.host}/app:3`, broken.env);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain(`mb: error: credential helper docker-credential-broken (credHelpers["${basic.host}"] of ${broken.file}) failed (exit status 3) for ${basic.host}:\nthe keychain is locked`);
  });

  it("a helper program not on PATH, or a helper name that is not a plain word, is exit 2 naming it and the file", async () => {
    const absent = dockerConfig({ credsStore: "absent" });
    const a = await push(`${basic.host}/app:4`, absent.env);
    expect(a.status).toBe(2);
    expect(errors(a.stderr)).toEqual([`mb: error: credential helper program docker-credential-absent (named by credsStore of ${absent.file}) is not on PATH`]);
    const bad = dockerConfig({ credHelpers: { [basic.host]: "../../bin/sh" } });
    const s = await push(`${basic.host}/app:4`, bad.env);
    expect(s.status).toBe(2);
    expect(errors(s.stderr)[0]).toBe(`mb: error: registry auth file ${bad.file}: credHelpers["${basic.host}"] "../../bin/sh" is not a credential helper name (letters, digits, '.', '_', '-'; the program run is docker-credential-<name>)`);
  });

  it("an identity token (<token>) is exchanged at the token server by the OAuth2 refresh-token grant; a stale one is refused", async () => {
    const good = dockerConfig({ credHelpers: { [token.host]: "token" } });
    const r = await push(`${token.host}/team/app:1`, good.env);
    expect(errors(r.stderr)).toEqual([]);
    expect(r.status).toBe(0);
    expect(token.tokensIssued()).toBeGreaterThan(0);
    const stale = dockerConfig({ credHelpers: { [token.host]: "stale" } });
    const s = await push(`${token.host}/team/app:2`, stale.env);
    expect(s.status).toBe(1);
    expect(s.stderr).toContain(`the identity token from docker-credential-stale (credHelpers["${token.host}"] of ${stale.file}) was refused`);
    const basicAuth = dockerConfig({ credHelpers: { [basic.host]: "token" } });
    const b = await push(`${basic.host}/app:5`, basicAuth.env);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain(`registry ${basic.host} asks for basic authentication`);
    expect(b.stderr).toContain(`are an identity token ('<token>'), which mb uses only in the bearer-token (OAuth2) flow`);
  });
});
