// Where a registry's credentials come from (credHelpers, then auths, then credsStore, file by file), chosen without
// running anything; and the run of a real credential helper (sh scripts written here, put first on PATH) in process:
// its answer, "credentials not found", an identity token, garbage, a failure with its stderr, a missing program, a
// time limit, and one run per helper and server URL for the process.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { credentialSourceIn, credentialSources, helperCredentials, helperServerUrl, helperTimeoutMs, parseAuthFile, runCredentialHelper } from "../../src/registry/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-credentials");
afterAll(() => dirs.removeAll());

const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** Writes `docker-credential-<name>` into `dir`: logs `$1 <stdin>` to dir/log, then runs `body`. */
function helper(dir: string, name: string, body: string): void {
  const file = join(dir, `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\nIFS= read -r url || true\nprintf '%s %s\\n' "$1" "$url" >> '${join(dir, "log")}'\n${body}\n`);
  chmodSync(file, 0o755);
}

/** The error a promise rejects with (failing when it resolves). */
async function failure(p: Promise<unknown>): Promise<MbError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof MbError)) throw new Error(`expected an MbError, got ${String(e)}`);
  return e;
}

describe("choosing where credentials come from (no process run)", () => {
  const file = "/cfg/config.json";
  it("credHelpers for the host first, then a usable auths entry, then credsStore", () => {
    const parsed = parseAuthFile(
      file,
      JSON.stringify({
        auths: { "reg:1": { auth: b64("u:p") }, "empty:1": {}, "https://index.docker.io/v1/": { identitytoken: "refresh" } },
        credHelpers: { "reg:1": "ecr-login", "gcr.io": "gcloud" },
        credsStore: "desktop",
        psFormat: "table",
      }),
    );
    expect(credentialSourceIn(file, parsed, "reg:1")).toEqual({ kind: "helper", helper: "ecr-login", file, key: 'credHelpers["reg:1"]' });
    expect(credentialSourceIn(file, parsed, "gcr.io")).toMatchObject({ kind: "helper", helper: "gcloud" });
    expect(credentialSourceIn(file, parsed, "empty:1")).toEqual({ kind: "helper", helper: "desktop", file, key: "credsStore" });
    expect(credentialSourceIn(file, parsed, "other:1")).toMatchObject({ kind: "helper", helper: "desktop" });
    expect(credentialSourceIn(file, parsed, "docker.io")).toEqual({ kind: "auths", credentials: { username: "", password: "", source: file, identityToken: "refresh" } });
    const plain = parseAuthFile(file, JSON.stringify({ auths: { "reg:1": { auth: b64("u:p:q") } }, credsStore: "" }));
    expect(credentialSourceIn(file, plain, "reg:1")).toEqual({ kind: "auths", credentials: { username: "u", password: "p:q", source: file } });
    expect(credentialSourceIn(file, plain, "other:1")).toBeNull();
    expect(helperServerUrl("docker.io")).toBe("https://index.docker.io/v1/");
    expect(helperServerUrl("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });

  it("a helper name that is not a plain word is exit 2 naming the file and the key", () => {
    for (const [config, key] of [
      [{ credHelpers: { "reg:1": "../../bin/sh" } }, 'credHelpers["reg:1"] "../../bin/sh"'],
      [{ credsStore: "-rf" }, 'credsStore "-rf"'],
      [{ credsStore: "a b;true" }, 'credsStore "a b;true"'],
    ] as const) {
      let error: unknown;
      try {
        parseAuthFile(file, JSON.stringify(config));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MbError);
      expect((error as MbError).exitCode).toBe(2);
      expect((error as MbError).message).toContain(`registry auth file ${file}: ${key} is not a credential helper name`);
    }
    expect(() => parseAuthFile(file, JSON.stringify({ credHelpers: { "reg:1": 3 } }))).toThrow(`registry auth file ${file} cannot be read: credHelpers.reg:1`);
  });

  it("each file in order gives at most one source; a file without the host gives none", () => {
    const dir = dirs.tempDir("files");
    const a = join(dir, "auth.json");
    writeFileSync(a, JSON.stringify({ auths: { "other:1": { auth: b64("x:y") } } }));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ credHelpers: { "reg:1": "pass" } }));
    const env = { REGISTRY_AUTH_FILE: a, DOCKER_CONFIG: dir, HOME: dir };
    expect(credentialSources("reg:1", undefined, env)).toEqual([{ kind: "helper", helper: "pass", file: join(dir, "config.json"), key: 'credHelpers["reg:1"]' }]);
    expect(credentialSources("other:1", undefined, env).map((s) => s.kind)).toEqual(["auths"]);
  });
});

describe("running a credential helper", () => {
  const dir = dirs.tempDir("helpers");
  const env = { PATH: `${dir}:${process.env.PATH}`, HOME: dir };
  helper(dir, "good", `printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\\n' "$url"`);
  helper(dir, "token", `printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-1"}' "$url"`);
  helper(dir, "none", `echo "credentials not found in native keychain"; exit 1`);
  helper(dir, "garbage", `echo "this is not JSON"`);
  helper(dir, "broken", `echo "the keychain is locked" >&2; exit 3`);
  helper(dir, "slow", `sleep 5`);
  const log = (): string[] => readFileSync(join(dir, "log"), "utf8").trim().split("\n");

  it("answers credentials for the server URL on stdin; <token> is an identity token; not found is null", async () => {
    expect(await runCredentialHelper("good", "reg:1", "credsStore of F", env)).toEqual({ username: "alice", password: "s3cret", source: "docker-credential-good (credsStore of F)" });
    expect(await runCredentialHelper("token", "reg:1", "credsStore of F", env)).toEqual({ username: "", password: "", source: "docker-credential-token (credsStore of F)", identityToken: "refresh-1" });
    expect(await runCredentialHelper("none", "reg:1", "credsStore of F", env)).toBeNull();
    expect(log().slice(0, 3)).toEqual(["get reg:1", "get reg:1", "get reg:1"]);
  });

  it("garbage, a failure, a missing program and a slow helper are errors naming the helper", async () => {
    const garbage = await failure(runCredentialHelper("garbage", "reg:1", 'credHelpers["reg:1"] of F', env));
    expect(garbage.exitCode).toBe(1);
    expect(garbage.message).toBe('credential helper docker-credential-garbage (credHelpers["reg:1"] of F) printed no JSON on stdout (17 bytes) for reg:1');
    const broken = await failure(runCredentialHelper("broken", "reg:1", "credsStore of F", env));
    expect(broken.exitCode).toBe(1);
    expect(broken.message).toBe("credential helper docker-credential-broken (credsStore of F) failed (exit status 3) for reg:1:\nthe keychain is locked");
    const missing = await failure(runCredentialHelper("absent", "reg:1", "credsStore of F", env));
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toBe("credential helper program docker-credential-absent (named by credsStore of F) is not on PATH");
    const slow = await failure(runCredentialHelper("slow", "reg:1", "credsStore of F", { ...env, MB_CREDENTIAL_HELPER_TIMEOUT: "0.3" }));
    expect(slow.exitCode).toBe(1);
    expect(slow.message).toContain("credential helper docker-credential-slow (credsStore of F) did not answer within 0.3 s (MB_CREDENTIAL_HELPER_TIMEOUT)");
    expect(() => helperTimeoutMs({ MB_CREDENTIAL_HELPER_TIMEOUT: "soon" })).toThrow("MB_CREDENTIAL_HELPER_TIMEOUT must be a number of seconds, got 'soon'");
    expect(helperTimeoutMs({})).toBe(30_000);
  });

  it("is run once per helper and server URL in a process, however many ask", async () => {
    const source = { kind: "helper", helper: "good", file: "F", key: "credsStore" } as const;
    const before = log().length;
    const answers = await Promise.all([1, 2, 3, 4].map(() => helperCredentials(source, "once:1", env)));
    expect(answers.every((a) => a?.username === "alice")).toBe(true);
    await helperCredentials(source, "once:1", env);
    await helperCredentials(source, "docker.io", env);
    expect(log().slice(before)).toEqual(["get once:1", "get https://index.docker.io/v1/"]);
  });
});
