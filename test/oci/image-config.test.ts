// The config fields of issue 12 item 3, built through the plan and the shell backend: WorkingDir, User, Volumes,
// StopSignal, annotations (manifest and index), org.opencontainers.image.* metadata, named tags (index.json and the
// docker-archive RepoTags), and per-layer ownership and modes set in the tar headers by the file-meta filter. Each field
// is absent when not given; bad values are refused at their path.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { ociImage, type OciImageArgs } from "../../src/oci/ornament.js";
import { FILE_META_PROGRAM, fileMetaArgument } from "../../src/oci/steps/file-meta.js";
import type { OciFileMeta } from "../../src/oci/image-config.js";
import { resolveImageUser } from "../../src/oci/engine/run.js";
import { buildWithScript, documents, filesOf, must, requireTool, runScript, tarMember, tempDir, treeOf, removeTempDirs } from "./helpers.js";

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });
afterAll(removeTempDirs);

const tree = (): string => treeOf({ "tmp/.keep": "", "home/app/hello.txt": "hello\n", "etc/motd": "hi\n" });
const image = (extra: Partial<OciImageArgs> = {}): OciImageArgs => ({ name: "cfg", layers: [{ name: "app", source: tree() }], ...extra });
const build = (extra: Partial<OciImageArgs> = {}) => documents(buildWithScript(ociImage(image(extra))));

/** `mode uid gid path` of every member of a tar, from GNU tar's verbose listing (numeric owners). */
function listing(tar: Buffer): string[] {
  return execFileSync("tar", ["--numeric-owner", "-tvf", "-"], { input: tar, encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => {
      const [mode, owner, , , , path] = l.split(/\s+/);
      return `${mode} ${owner} ${path}`;
    });
}

/** A tar of `dir` made as tar-layer makes it (deterministic flags). */
const tarOfDir = (dir: string): Buffer =>
  execFileSync("tar", ["--sort=name", "--format=posix", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "--mtime=@1", "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", "-C", dir, "."], { maxBuffer: 1 << 28 });
/** A tar (or the tar of a directory) filtered by the file-meta program with `files`. */
function filtered(input: string | Buffer, files: readonly OciFileMeta[]): Buffer {
  const tar = typeof input === "string" ? tarOfDir(input) : input;
  return execFileSync(requireTool("node", "nodejs"), ["-e", FILE_META_PROGRAM, fileMetaArgument(files)], { input: tar, maxBuffer: 1 << 28 });
}

describe("none of the new fields: the original's documents", () => {
  it("writes no WorkingDir, User, Volumes, StopSignal, annotations, and one descriptor named by the image", () => {
    const { index, manifest, config } = build();
    expect(Object.keys(config.config)).toEqual([]);
    expect(manifest.annotations).toBeUndefined();
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations).toEqual({ "org.opencontainers.image.ref.name": "cfg" });
    expect(ociImage(image()).tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils"]);
    const spec = ociImage(image()) as Record<string, unknown>;
    for (const k of ["workingDir", "user", "volumes", "stopSignal", "annotations", "tags"]) expect(spec).not.toHaveProperty(k);
  });
});

describe("each config field, as the image-spec names it", () => {
  it.each([
    [{ workingDir: "/home/app" }, { WorkingDir: "/home/app" }],
    [{ user: "1000" }, { User: "1000" }],
    [{ user: "1000:1000" }, { User: "1000:1000" }],
    [{ user: "app" }, { User: "app" }],
    [{ user: "app:staff" }, { User: "app:staff" }],
    [{ volumes: ["/data", "/cache"] }, { Volumes: { "/cache": {}, "/data": {} } }],
    [{ stopSignal: "SIGINT" }, { StopSignal: "SIGINT" }],
    [{ stopSignal: "SIGRTMIN+3" }, { StopSignal: "SIGRTMIN+3" }],
    [{ stopSignal: "15" }, { StopSignal: "15" }],
  ] as const)("%j gives config %j and nothing else", (extra, expected) => {
    const { config, manifest, index } = build(extra as Partial<OciImageArgs>);
    expect(config.config).toEqual(expected);
    expect(manifest.annotations).toBeUndefined();
    expect(index.manifests).toHaveLength(1);
  });

  it("annotations reach the manifest and the index descriptor (beside its ref name)", () => {
    const { manifest, index } = build({ annotations: { "com.example.b": "2", "com.example.a": "$out 'x'" } });
    expect(manifest.annotations).toEqual({ "com.example.a": "$out 'x'", "com.example.b": "2" });
    expect(Object.keys(manifest.annotations)).toEqual(["com.example.a", "com.example.b"]);
    expect(index.manifests[0].annotations).toEqual({ "com.example.a": "$out 'x'", "com.example.b": "2", "org.opencontainers.image.ref.name": "cfg" });
  });

  it("metadata gives org.opencontainers.image.* labels and annotations; explicit ones win; no created annotation is invented", () => {
    const { manifest, config } = build({
      metadata: { version: "1.2.3", source: "https://example.com/x.git", revision: "abc", description: "d" },
      labels: { "org.opencontainers.image.version": "from-labels" },
    });
    expect(config.config.Labels).toEqual({
      "org.opencontainers.image.description": "d",
      "org.opencontainers.image.revision": "abc",
      "org.opencontainers.image.source": "https://example.com/x.git",
      "org.opencontainers.image.version": "from-labels",
    });
    expect(manifest.annotations).toEqual({
      "org.opencontainers.image.description": "d",
      "org.opencontainers.image.revision": "abc",
      "org.opencontainers.image.source": "https://example.com/x.git",
      "org.opencontainers.image.version": "1.2.3",
    });
    expect(JSON.stringify(manifest)).not.toContain("created");
  });

  it("tags: one index descriptor per tag, and the docker-archive's RepoTags", () => {
    const out = buildWithScript(ociImage(image({ tags: ["cfg:1.0", "localhost:5000/team/cfg:latest"] })));
    const { index, manifestDigest, configDigest } = documents(out);
    expect(index.manifests.map((m: any) => [m.digest, m.annotations["org.opencontainers.image.ref.name"]])).toEqual([
      [manifestDigest, "cfg:1.0"],
      [manifestDigest, "localhost:5000/team/cfg:latest"],
    ]);
    const dm = JSON.parse(tarMember(join(out, "image.oci.tar"), "./manifest.json").toString("utf8"));
    expect(dm[0].RepoTags).toEqual(["cfg:1.0", "localhost:5000/team/cfg:latest"]);
    expect(dm[0].Config).toBe(`blobs/sha256/${configDigest.slice(7)}`);
  });

  it("tag names <name>:<tag>", () => {
    expect(ociImage(image({ tag: "v2" })).tags).toEqual(["cfg:v2"]);
    expect(documents(buildWithScript(ociImage(image({ tag: "v2" })))).index.manifests[0].annotations).toEqual({ "org.opencontainers.image.ref.name": "cfg:v2" });
  });
});

describe("per-layer ownership and modes", () => {
  it("are set in the layer's tar headers; /tmp is 1777 by default; the host files keep theirs", () => {
    const root = tree();
    const out = buildWithScript(
      ociImage(image({ layers: [{ name: "app", source: root, files: [{ path: "/home/app", uid: 1000, gid: 1000 }, { path: "/home/app/*", uid: 1000, gid: 1001, mode: "600" }] }] })),
    );
    const { manifest } = documents(out);
    const tar = readFileSync(join(out, "blobs/sha256", manifest.layers[0].digest.slice(7)));
    expect(listing(tar)).toEqual([
      "drwxr-xr-x 0/0 ./",
      "drwxr-xr-x 0/0 ./etc/",
      "-rw-r--r-- 0/0 ./etc/motd",
      "drwxr-xr-x 0/0 ./home/",
      "drwxr-xr-x 1000/1000 ./home/app/",
      "-rw------- 1000/1001 ./home/app/hello.txt",
      "drwxrwxrwt 0/0 ./tmp/",
      "-rw-r--r-- 0/0 ./tmp/.keep",
    ]);
    expect(must("stat", ["-c", "%a %u", join(root, "home/app/hello.txt")]).trim()).toMatch(/^644 /);
  });

  it("are deterministic: two builds in other directories, one under umask 077, give the same bytes", () => {
    const spec = ociImage(image({ layers: [{ name: "app", source: tree(), files: [{ path: "/home/**", uid: 1000, gid: 1000, mode: "640" }] }], tags: ["cfg:1"] }));
    const a = buildWithScript(spec);
    const dir = tempDir("build");
    const r = runScript(spec, join(dir, "out"), { tmp: join(dir, "tmp"), umask: "077" });
    expect(r.status).toBe(0);
    expect(filesOf(join(dir, "out"))).toEqual(filesOf(a));
  });

  it("declare node only when some layer has files; files: [] gives just the /tmp default", () => {
    expect(ociImage(image({ layers: [{ name: "app", source: "/x", files: [] }] })).tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils", "node"]);
    const out = buildWithScript(ociImage(image({ layers: [{ name: "app", source: tree(), files: [] }] })));
    const tar = readFileSync(join(out, "blobs/sha256", documents(out).manifest.layers[0].digest.slice(7)));
    expect(listing(tar).filter((l) => l.endsWith("/tmp/"))).toEqual(["drwxrwxrwt 0/0 ./tmp/"]);
  });

  it("a later rule wins per field; '*' stays in one component, '**' crosses them; '?' is one character (so /a/? matches /a/b too)", () => {
    const dir = treeOf({ "a/b/c/f": "", "a/x": "", "a/yy": "" });
    expect(listing(filtered(dir, [{ path: "/a/*", uid: 5 }, { path: "/a/**", gid: 7 }, { path: "/a/?", mode: "700" }, { path: "/a/x", uid: 9 }]))).toEqual([
      "drwxr-xr-x 0/0 ./",
      "drwxr-xr-x 0/0 ./a/",
      "drwx------ 5/7 ./a/b/",
      "drwxr-xr-x 0/7 ./a/b/c/",
      "-rw-r--r-- 0/7 ./a/b/c/f",
      "-rwx------ 9/7 ./a/x",
      "-rw-r--r-- 5/7 ./a/yy",
    ]);
  });

  it("matches long names (pax path records and the ustar prefix), symlinks, and changes nothing it does not match", () => {
    const long = "d".repeat(120);
    const dir = treeOf({ [`${long}/${long}/f`]: "x" });
    symlinkSync("f", join(dir, long, "link"));
    mkdirSync(join(dir, "tmpx"));
    const plain = tarOfDir(dir);
    expect(filtered(plain, [{ path: "/nothing", uid: 1 }]).equals(plain)).toBe(true);
    const l = listing(filtered(dir, [{ path: `/${long}/**`, uid: 42, gid: 43 }]));
    expect(l.filter((s) => s.includes(" 42/43 "))).toHaveLength(3);
    expect(l.find((s) => s.endsWith(`${long}/${long}/f`))).toBe(`-rw-r--r-- 42/43 ./${long}/${long}/f`);
    expect(l.find((s) => s.includes("/link"))?.startsWith("lrwxrwxrwx 42/43")).toBe(true);
    // The GNU tar that reads it back agrees with itself: the archive is well-formed (checksums right).
    expect(() => execFileSync("tar", ["-tf", "-"], { input: filtered(dir, [{ path: "/**", mode: "1777", uid: 2097151 }]) })).not.toThrow();
  });
});

describe("the config's User as mb check resolves it", () => {
  const root = (): string => treeOf({ "etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n", "etc/group": "root:x:0:\nstaff:x:50:\n" });

  it.each([
    [undefined, { uid: 0, gid: 0 }],
    ["1000", { uid: 1000, gid: 0 }],
    ["1000:1000", { uid: 1000, gid: 1000 }],
    ["app", { uid: 1000, gid: 1001 }],
    ["app:staff", { uid: 1000, gid: 50 }],
  ] as const)("%j is %j", async (user, ids) => {
    expect(await resolveImageUser(root(), user)).toEqual(ids);
  });

  it("a name the image does not list is an error naming it", async () => {
    await expect(resolveImageUser(root(), "nobody")).rejects.toThrow("names the user 'nobody', which /etc/passwd in the image does not list");
    await expect(resolveImageUser(root(), "app:wheel")).rejects.toThrow("names the group 'wheel', which /etc/group in the image does not list");
    await expect(resolveImageUser(treeOf({ "x": "" }), "app")).rejects.toThrow(MbError);
  });
});

describe("bad input is refused at its path (ociImage)", () => {
  const error = (extra: Partial<OciImageArgs>): string => {
    try {
      ociImage(image(extra));
    } catch (e) {
      expect(e).toBeInstanceOf(MbError);
      expect((e as MbError).exitCode).toBe(2);
      return (e as MbError).message;
    }
    throw new Error("expected a validation error");
  };

  it.each([
    [{ user: "a:b:c" }, "user: user is 'name', 'uid', 'uid:gid' or 'name:group'"],
    [{ user: "1000:staff" }, "user: user is 'name', 'uid', 'uid:gid' or 'name:group'"],
    [{ user: "" }, "user: user is 'name'"],
    [{ workingDir: "app" }, "workingDir: workingDir is an absolute path"],
    [{ workingDir: "/a/../b" }, "workingDir: workingDir has no '.' or '..' components"],
    [{ volumes: ["data"] }, "volumes[0]: a volume is an absolute path"],
    [{ volumes: ["/d", "/d"] }, "volumes: volumes are listed once each"],
    [{ stopSignal: "TERM" }, "stopSignal: stopSignal is a signal name"],
    [{ stopSignal: "65" }, "stopSignal: stopSignal is a signal name"],
    [{ tags: ["Bad:1"] }, "tags[0]: tags are 'name:tag' references"],
    [{ tags: ["x"] }, "tags[0]: tags are 'name:tag' references"],
    [{ tags: [] }, "tags: tags lists at least one"],
    [{ tag: "v1", tags: ["a:b"] }, "tag: give tag or tags, not both"],
    [{ tag: "-v" }, "tag: a tag is letters"],
    [{ annotations: { "": "x" } }, "annotations"],
    [{ metadata: { versoin: "1" } as never }, "metadata.versoin: unknown key `versoin` (did you mean `version`?)"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp", mode: "999" }] }] }, "layers[0].files[0].mode: mode is an octal string"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp", mode: "0o755" }] }] }, "layers[0].files[0].mode: mode is an octal string"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp", uid: -1 }] }] }, "layers[0].files[0].uid: uid is a non-negative integer"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp", gid: 1.5 }] }] }, "layers[0].files[0].gid: gid is a non-negative integer"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp", uid: "0" as never }] }] }, "layers[0].files[0].uid: uid is a non-negative integer"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "tmp", mode: "755" }] }] }, "layers[0].files[0].path: a files path is an absolute path"],
    [{ layers: [{ name: "app", source: "/x", files: [{ path: "/tmp" }] }] }, "layers[0].files[0]: a files entry sets at least one of uid, gid and mode"],
  ] as const)("%j: %s", (extra, message) => {
    expect(error(extra as Partial<OciImageArgs>)).toContain(message);
  });
});
