// Image references (`docker://…`), the transport rule (plain HTTP only for loopback or --insecure) and auth-file
// reading: pure rules of the registry client, checked in process.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { authFiles, findCredentials, type HelperLookup, formatReference, isLoopback, parseChallenge, parseReference, registryBaseUrl } from "../../src/registry/index.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-registry-ref");
afterAll(() => dirs.removeAll());
const D = `sha256:${"ab".repeat(32)}`;

describe("parseReference", () => {
  it.each([
    ["docker://127.0.0.1:5000/busybox:1", { registry: "127.0.0.1:5000", repository: "busybox", tag: "1" }],
    ["docker://127.0.0.1:5000/team/app", { registry: "127.0.0.1:5000", repository: "team/app", tag: "latest" }],
    [`docker://localhost:5000/app@${D}`, { registry: "localhost:5000", repository: "app", digest: D }],
    [`docker://reg.example/a/b:v2@${D}`, { registry: "reg.example", repository: "a/b", tag: "v2", digest: D }],
    ["docker://busybox", { registry: "docker.io", repository: "library/busybox", tag: "latest" }],
    ["docker://team/app:1.0", { registry: "docker.io", repository: "team/app", tag: "1.0" }],
    ["docker://[::1]:5000/app:x", { registry: "[::1]:5000", repository: "app", tag: "x" }],
  ])("%s", (ref, parsed) => {
    expect(parseReference(ref)).toEqual(parsed);
  });

  it.each([
    ["oci:dir", "it must start with docker://"],
    ["docker://127.0.0.1:5000/", "it names no repository"],
    ["docker://127.0.0.1:5000/App:1", "'App' is not a repository path component"],
    ["docker://127.0.0.1:5000/app:-x", "'-x' is not a tag"],
    ["docker://127.0.0.1:5000/app@sha256:12", "'sha256:12' is not a digest"],
    ["docker://bad_host.example/app", "'bad_host.example' is not a host[:port]"],
  ])("%s is a usage error naming it", (ref, why) => {
    let err: unknown;
    try {
      parseReference(ref);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MbError);
    expect((err as MbError).exitCode).toBe(2);
    expect((err as MbError).message).toBe(`invalid image reference '${ref}': ${(err as MbError).message.split(": ").slice(1).join(": ")}`);
    expect((err as MbError).message).toContain(why);
  });

  it("formats back", () => {
    expect(formatReference(parseReference("docker://127.0.0.1:5000/app"))).toBe("docker://127.0.0.1:5000/app:latest");
    expect(formatReference(parseReference(`docker://h.example/app:v@${D}`), false)).toBe(`docker://h.example/app@${D}`);
  });
});

describe("the transport rule", () => {
  it("loopback hosts are 127.0.0.0/8, ::1 and localhost", () => {
    for (const h of ["127.0.0.1:5000", "127.1.2.3", "localhost:5000", "[::1]:5000", "a.localhost"]) expect(isLoopback(h)).toBe(true);
    for (const h of ["10.0.0.1:5000", "registry.example", "128.0.0.1", "[::2]:5000", "localhost.example.com"]) expect(isLoopback(h)).toBe(false);
  });

  it("https for a non-loopback host unless insecure; plain HTTP for loopback", () => {
    expect(registryBaseUrl("registry.example:5000")).toBe("https://registry.example:5000");
    expect(registryBaseUrl("registry.example:5000", true)).toBe("http://registry.example:5000");
    expect(registryBaseUrl("127.0.0.1:5000")).toBe("http://127.0.0.1:5000");
    expect(registryBaseUrl("docker.io")).toBe("https://registry-1.docker.io");
  });
});

describe("auth", () => {
  it("parses WWW-Authenticate challenges", () => {
    expect(parseChallenge('Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push"')).toEqual({
      scheme: "bearer",
      params: { realm: "http://127.0.0.1:1/token", service: "reg", scope: "repository:a/b:pull,push" },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: "basic", params: { realm: "x" } });
  });

  it("reads auths by host from the first file that has them: base64 auth, or username and password", async () => {
    const dir = dirs.tempDir("auth");
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    writeFileSync(a, JSON.stringify({ auths: { "other:1": { auth: Buffer.from("x:y").toString("base64") } }, credsStore: "desktop" }));
    writeFileSync(b, JSON.stringify({ auths: { "https://reg.example:5000/v2/": { username: "u", password: "p:q" } } }));
    const env = { REGISTRY_AUTH_FILE: a, HOME: dir };
    const asked: string[] = [];
    const ask: HelperLookup = async (source, registry) => (asked.push(`${source.helper} ${source.key} ${registry}`), null);
    expect(authFiles(undefined, env)).toEqual([a, join(dir, ".docker/config.json")]);
    expect(await findCredentials("other:1", undefined, env, ask)).toEqual({ username: "x", password: "y", source: a });
    expect(await findCredentials("reg.example:5000", b, env, ask)).toEqual({ username: "u", password: "p:q", source: b });
    expect(asked).toEqual([]);
    // a's credsStore is asked for a host a has no auths for; it has none: anonymous
    expect(await findCredentials("reg.example:5000", undefined, env, ask)).toBeNull();
    expect(asked).toEqual(["desktop credsStore reg.example:5000"]);
  });

  it("an auth file that is not JSON, or a given one that is missing, is an error naming it", async () => {
    const dir = dirs.tempDir("auth-bad");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{");
    const ask: HelperLookup = () => Promise.reject(new Error("no helper should run"));
    await expect(findCredentials("h:1", bad, {}, ask)).rejects.toThrow(`registry auth file ${bad} cannot be read`);
    await expect(findCredentials("h:1", join(dir, "none.json"), {}, ask)).rejects.toThrow(`registry auth file ${join(dir, "none.json")} does not exist`);
  });
});
