// Base images, the pure parts (issue 12, item 1): base references, the lowering of `base` into import-base and the
// merged write-config, the config merge itself (the very program text the step runs, evaluated here), and the lock
// file: its schema, its text, where it disagrees with a spec, and how pins replace registry bases in a program.
import { describe, expect, it } from "vitest";
import { builderOutput, hostPackage, MbError, pathPackage } from "../../src/index.js";
import { ociImage } from "../../src/oci/ornament.js";
import { parseBase, parseRegistryReference, registryPackage } from "../../src/oci/base/reference.js";
import { MERGE_CONFIG_JS } from "../../src/oci/base/programs.js";
import { lockDisagreements, lockText, parseLock, pinProgram, pulledPathOf, pullOf, registryUses, type LockFile } from "../../src/oci/base/lock.js";
import { fromSpec } from "../../src/program/program.js";

const mergeImageConfig = new Function(`${MERGE_CONFIG_JS}\nreturn mergeImageConfig;`)() as (base: unknown, spec: unknown, created: string, diffIds: string[]) => any;
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const rootfs = hostPackage("rootfs");

describe("base references", () => {
  it("parses oci:, oci-archive:, docker:// and packages", () => {
    expect(parseBase("oci:./base:v1", "linux", "amd64")).toEqual({ _con: "MetaBuilderOciBase", reference: "oci:./base:v1", kind: "layout", source: pathPackage("./base"), ref: "v1" });
    expect(parseBase("oci-archive:/tmp/b.tar", "linux", "amd64")).toEqual({ _con: "MetaBuilderOciBase", reference: "oci-archive:/tmp/b.tar", kind: "archive", source: pathPackage("/tmp/b.tar") });
    expect(parseBase("docker://127.0.0.1:5000/team/base:1", "linux", "arm64")).toEqual({
      _con: "MetaBuilderOciBase",
      reference: "docker://127.0.0.1:5000/team/base:1",
      kind: "registry",
      source: registryPackage("docker://127.0.0.1:5000/team/base:1", "linux", "arm64"),
    });
    expect(parseBase(pathPackage("/layouts/x"), "linux", "amd64")).toMatchObject({ reference: "package:/layouts/x", kind: "layout" });
    expect(parseRegistryReference(`docker://reg.example/a/b:1@${D1}`)).toEqual({ registry: "reg.example", repository: "a/b", tag: "1", digest: D1 });
  });

  it("names what is wrong with a bad reference", () => {
    expect(parseBase("ftp://x/y:1", "linux", "amd64")).toMatch(/the unknown scheme 'ftp:'/);
    expect(parseBase("busybox", "linux", "amd64")).toMatch(/'busybox' has no scheme/);
    expect(parseBase("docker://127.0.0.1:5000/base", "linux", "amd64")).toMatch(/names no tag or digest: write docker:\/\/127.0.0.1:5000\/base:<tag>/);
    expect(parseBase("docker://busybox:1", "linux", "amd64")).toMatch(/names no registry host/);
    expect(parseBase("docker://h.example/Base:1", "linux", "amd64")).toMatch(/'Base' is not a repository name/);
    expect(parseBase("docker://h.example/b@sha256:abc", "linux", "amd64")).toMatch(/is not sha256:<64/);
    expect(parseBase("oci:", "linux", "amd64")).toMatch(/names no directory/);
  });
});

describe("ociImage with a base", () => {
  const layers = [{ name: "app", source: rootfs }];

  it("adds import-base before the layers, node as a tool, and the base reference to spec and descriptor", () => {
    const spec = ociImage({ name: "app", base: "oci:./base:v1", layers });
    const names = spec.operations.map((o) => ("name" in o ? o.name : o._con === "declareTool" ? `tool:${o.tool.name}` : o._con));
    expect(names.slice(0, 7)).toEqual(["tool:bash", "tool:tar", "tool:coreutils", "tool:node", "writeFile", "import-base", "assemble-rootfs-app"]);
    expect(spec.base).toEqual({ _con: "MetaBuilderOciBase", reference: "oci:./base:v1", kind: "layout", source: pathPackage("./base"), ref: "v1" });
    const descriptor = spec.operations.find((o) => o._con === "emitDescriptor");
    expect(descriptor && descriptor._con === "emitDescriptor" && descriptor.descriptor.payload.base).toBe("oci:./base:v1");
  });

  it("passes only the fields the caller gave to the merge (the rest is inherited)", () => {
    const spec = ociImage({ name: "app", base: builderOutput(ociImage({ name: "b", layers })), layers, cmd: ["run"], env: ["A=1"], user: "app" });
    const config = spec.operations.find((o) => o._con === "runTool" && o.name === "write-config");
    const arg = config && config._con === "runTool" ? String(config.args[4]) : "";
    expect(JSON.parse(arg)).toEqual({ architecture: "amd64", os: "linux", config: { Cmd: ["run"], Env: ["A=1"], User: "app" }, history: ["metabuilder oci-image: layer app"], layers: ["app"] });
  });

  it("refuses a bad base at `base`, and an image without one keeps the seed's operations", () => {
    expect(() => ociImage({ name: "app", base: "ftp://x/y:1", layers })).toThrow(MbError);
    expect(() => ociImage({ name: "app", base: "ftp://x/y:1", layers })).toThrow(/base: base 'ftp:\/\/x\/y:1' has the unknown scheme 'ftp:'/);
    const plain = ociImage({ name: "app", layers });
    expect(plain.operations.some((o) => "name" in o && o.name === "import-base")).toBe(false);
    expect("base" in plain).toBe(false);
    expect(plain.operations).toHaveLength(18);
  });
});

describe("the config merge", () => {
  const base = {
    architecture: "amd64",
    os: "linux",
    created: "2020-01-01T00:00:00Z",
    config: { Env: ["PATH=/bin", "GREETING=base"], Entrypoint: ["/bin/sh"], Cmd: ["-c", "echo base"], Labels: { a: "base", b: "base" }, ExposedPorts: { "80/tcp": {} }, WorkingDir: "/srv", Healthcheck: { Test: ["NONE"] } },
    rootfs: { type: "layers", diff_ids: [D1] },
    history: [{ created: "2020-01-01T00:00:00Z", created_by: "base layer" }],
  };
  const spec = (config: object) => ({ architecture: "amd64", os: "linux", config, history: ["metabuilder oci-image: layer app"] });

  it("inherits what the spec does not give, keeps history and diff_ids base first", () => {
    expect(mergeImageConfig(base, spec({}), "1970-01-01T00:00:01Z", [D2])).toEqual({
      architecture: "amd64",
      os: "linux",
      created: "1970-01-01T00:00:01Z",
      config: { Entrypoint: ["/bin/sh"], Cmd: ["-c", "echo base"], Env: ["PATH=/bin", "GREETING=base"], ExposedPorts: { "80/tcp": {} }, Labels: { a: "base", b: "base" }, WorkingDir: "/srv", Healthcheck: { Test: ["NONE"] } },
      rootfs: { type: "layers", diff_ids: [D1, D2] },
      history: [
        { created: "2020-01-01T00:00:00Z", created_by: "base layer" },
        { created: "1970-01-01T00:00:01Z", created_by: "metabuilder oci-image: layer app" },
      ],
    });
  });

  it("lets the spec win: env and labels by key, ports and volumes as a union, an empty list removes", () => {
    const c = mergeImageConfig(base, spec({ Cmd: ["-c", "echo app"], Env: ["GREETING=app", "NEW=1"], Labels: { b: "app" }, ExposedPorts: { "8080/tcp": {} }, Volumes: { "/data": {} }, User: "1000", WorkingDir: "/app" }), "t", []).config;
    expect(c).toEqual({
      Entrypoint: ["/bin/sh"],
      Cmd: ["-c", "echo app"],
      Env: ["PATH=/bin", "GREETING=app", "NEW=1"],
      ExposedPorts: { "80/tcp": {}, "8080/tcp": {} },
      Labels: { a: "base", b: "app" },
      WorkingDir: "/app",
      User: "1000",
      Volumes: { "/data": {} },
      Healthcheck: { Test: ["NONE"] },
    });
    expect(mergeImageConfig(base, spec({ Cmd: [] }), "t", []).config.Cmd).toBeUndefined();
  });

  it("drops the base's Cmd when the spec sets an Entrypoint without a Cmd (Docker's rule)", () => {
    const c = mergeImageConfig(base, spec({ Entrypoint: ["/app"] }), "t", []).config;
    expect(c.Entrypoint).toEqual(["/app"]);
    expect(c.Cmd).toBeUndefined();
    expect(mergeImageConfig(base, spec({ Entrypoint: ["/app"], Cmd: ["x"] }), "t", []).config.Cmd).toEqual(["x"]);
  });

  it("handles a base with no config, history or diff_ids", () => {
    expect(mergeImageConfig({ architecture: "amd64", os: "linux" }, spec({ Env: ["A=1"] }), "t", [D2])).toEqual({
      architecture: "amd64",
      os: "linux",
      created: "t",
      config: { Env: ["A=1"] },
      rootfs: { type: "layers", diff_ids: [D2] },
      history: [{ created: "t", created_by: "metabuilder oci-image: layer app" }],
    });
  });
});

describe("the lock file", () => {
  const REF = "docker://127.0.0.1:5000/base:1";
  const lock: LockFile = { lockfileVersion: 1, bases: { [REF]: { digest: D1, mediaType: "application/vnd.oci.image.manifest.v1+json", platforms: { "linux/amd64": { digest: D1, mediaType: "application/vnd.oci.image.manifest.v1+json", size: 400 } } } } };

  it("round-trips through its text, keys sorted", () => {
    const text = lockText(lock);
    expect(parseLock(text, "mb.lock.json")).toEqual(lock);
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("refuses what is not a lock, naming the file and the path", () => {
    expect(() => parseLock("{", "/x/mb.lock.json")).toThrow(/\/x\/mb.lock.json is not JSON/);
    const bad = JSON.parse(lockText(lock));
    bad.bases[REF].platforms["linux/amd64"].digest = "sha256:nope";
    expect(() => parseLock(JSON.stringify(bad), "f")).toThrow(/bases.docker:\/\/127.0.0.1:5000\/base:1.platforms.linux\/amd64.digest: a digest is sha256/);
    expect(() => parseLock(JSON.stringify({ ...lock, extra: 1 }), "f")).toThrow(/unknown key `extra`/);
    try {
      parseLock("[]", "f");
    } catch (e) {
      expect((e as MbError).exitCode).toBe(2);
    }
  });

  it("disagrees with a spec that does not use a pinned reference, or names another digest", () => {
    const uses = new Map([[REF, new Set(["linux/amd64"])]]);
    expect(lockDisagreements(lock, uses, "mb.lock.json")).toEqual([]);
    expect(lockDisagreements(lock, new Map([["docker://127.0.0.1:5000/other:1", new Set(["linux/amd64"])]]), "mb.lock.json")).toEqual([
      `mb.lock.json pins ${REF}, which the builder does not use (its registry bases: docker://127.0.0.1:5000/other:1)`,
    ]);
    const byDigest = `docker://127.0.0.1:5000/base@${D2}`;
    const pinned: LockFile = { lockfileVersion: 1, bases: { [byDigest]: lock.bases[REF]! } };
    expect(lockDisagreements(pinned, new Map([[byDigest, new Set(["linux/amd64"])]]), "mb.lock.json")).toEqual([`the spec's ${byDigest} names ${D2}, but mb.lock.json pins it to ${D1}`]);
  });

  it("finds registry bases through builder dependencies and replaces pinned ones by their store entry", () => {
    const base = ociImage({ name: "mid", base: REF, layers: [{ name: "l", source: rootfs }] });
    const top = ociImage({ name: "top", base: builderOutput(base), layers: [{ name: "l", source: rootfs }] });
    const program = fromSpec(top);
    expect(registryUses(program)).toEqual(new Map([[REF, new Set(["linux/amd64"])]]));
    const pull = pullOf(REF, "linux/amd64", lock.bases[REF], "/s")!;
    expect(pull.storePath).toBe(pulledPathOf("/s", D1));
    expect(pull.storePath).toMatch(/^\/s\/[0-9a-z]{32}-oci-base-1111111111111111$/);
    const pinned = pinProgram(program, new Map([[`${REF}#linux/amd64`, pull]]));
    expect(JSON.stringify(pinned)).toContain(pull.storePath);
    expect(JSON.stringify(pinned)).not.toContain(`${REF}#`);
    expect(pullOf(REF, "linux/arm64", lock.bases[REF], "/s")).toBeNull();
  });
});
