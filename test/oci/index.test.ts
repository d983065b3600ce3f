// ociIndex (issue 12, item 4) without the CLI: the spec and program it lowers to, one image per platform (a duplicate
// is refused naming both), `variant` absent unless given, the index documents as the shell backend builds them over two
// small images (checked by the image-spec's JSON Schemas and verifyOciLayout), and verifyOciLayout's platform checks.
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { compile } from "../../src/program/compile.js";
import { fromSpec } from "../../src/program/program.js";
import { ociImage, type OciImageArgs } from "../../src/oci/ornament.js";
import { OciIndexBuilder, ociIndex, type OciIndexArgs, type OciIndexSpec } from "../../src/oci/index-ornament.js";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { ornamentOfKeys } from "../../src/ornaments/registry.js";
import { programOfSpec } from "../../src/cli/spec-program.js";
import { buildWithScript, documents, must, readJson, tarMember, tempDir, treeOf, removeTempDirs } from "./helpers.js";
import { ociSchemas, schemaErrors } from "./schemas.js";

vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });
afterAll(removeTempDirs);

const tree = (text: string): string => treeOf({ "etc/motd": `${text}\n`, "bin/.keep": "" });
const image = (name: string, extra: Partial<OciImageArgs> = {}) => ociImage({ name, layers: [{ name: "root", source: tree(name) }], ...extra });
const two = (extra: Partial<OciIndexArgs> = {}): OciIndexSpec =>
  ociIndex({ name: "multi", images: [image("app-amd64"), image("app-arm64", { architecture: "arm64", variant: "v8" })], ...extra });

/** The error a function throws (it must throw an MbError). */
function thrown(f: () => unknown): MbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MbError);
    return e as MbError;
  }
  throw new Error("expected an error");
}

describe("the program of ociIndex", () => {
  it("adds each image by its platform, then writes the image index, index.json and the archive", () => {
    const spec = two();
    expect(spec.images.map((i) => [i.name, i.platform])).toEqual([
      ["app-amd64", { architecture: "amd64", os: "linux" }],
      ["app-arm64", { architecture: "arm64", os: "linux", variant: "v8" }],
    ]);
    expect(spec.tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils"]);
    expect(spec.evidence).toEqual([]);
    const plan = compile(fromSpec(spec));
    expect(plan.name).toBe("multi-oci-index");
    expect(plan.steps.map((s) => s.name)).toEqual([
      "write:oci-layout",
      "add-image-linux-amd64",
      "add-image-linux-arm64-v8",
      "write-image-index",
      "write-index",
      "verify-blobs",
      "clean-scratch",
      "archive-layout",
    ]);
    // Each image is a builder dependency: the add-image step's argument is the image's build.
    const adds = spec.operations.filter((o) => o._con === "runTool" && o.name.startsWith("add-image-"));
    expect(adds.map((o) => (o._con === "runTool" ? (o.args[3] as { _con: string; spec: { name: string } }).spec.name : ""))).toEqual(["app-amd64", "app-arm64"]);
    const descriptor = spec.operations.find((o) => o._con === "emitDescriptor");
    expect(descriptor?._con === "emitDescriptor" && descriptor.descriptor.payload).toEqual({ kind: "oci-index", platforms: ["linux/amd64", "linux/arm64/v8"], images: ["app-amd64", "app-arm64"] });
  });

  it("forgets to a base spec that compiles to the same program, and the spec is accepted as JSON by its ornament", async () => {
    const spec = two({ annotations: { "com.example": "x" }, tags: ["multi:1.0"] });
    expect(fromSpec(OciIndexBuilder.forgetAll(spec))).toEqual(fromSpec(spec));
    const json = JSON.parse(JSON.stringify(spec)) as object;
    expect(await programOfSpec(json)).toEqual(fromSpec(spec));
    // oci-index and oci-image share `annotations` and `tags`; `images` decides.
    expect((await ornamentOfKeys(["images", "annotations", "tags"]))?.entry.name).toBe("oci-index");
    expect((await ornamentOfKeys(["layers", "annotations"]))?.entry.name).toBe("oci-image");
  });
});

describe("one image per platform", () => {
  it("refuses two images of one platform, naming both", () => {
    const e = thrown(() => ociIndex({ name: "dup", images: [image("first"), image("second"), image("third", { architecture: "arm64" })] }));
    expect(e.message).toContain("  - images[1]: 'second' is linux/amd64, as images[0] 'first' is: an index holds one image per platform");
  });

  it("tells variants apart: arm v6 and v7 are two platforms", () => {
    const spec = ociIndex({ name: "arm", images: [image("v6", { architecture: "arm", variant: "v6" }), image("v7", { architecture: "arm", variant: "v7" })] });
    expect(spec.images.map((i) => i.platform.variant)).toEqual(["v6", "v7"]);
    const e = thrown(() => ociIndex({ name: "arm", images: [image("a", { architecture: "arm", variant: "v7" }), image("b", { architecture: "arm", variant: "v7" })] }));
    expect(e.message).toContain("images[1]: 'b' is linux/arm/v7, as images[0] 'a' is");
  });

  it("refuses a duplicate in a JSON spec too, at images[i].platform; and an index of no image", async () => {
    const spec = JSON.parse(JSON.stringify(two())) as { images: { platform: object }[] };
    spec.images[1]!.platform = { architecture: "amd64", os: "linux" };
    const e = await programOfSpec(spec).then(
      () => null,
      (err: unknown) => err as MbError,
    );
    expect(e?.message).toContain("images[1].platform: 'app-arm64' is linux/amd64, as images[0] 'app-amd64' is");
    expect(thrown(() => ociIndex({ name: "none", images: [] })).message).toContain("an index lists at least one image");
  });

  it("refuses a variant that is not a CPU variant, and unknown keys with a suggestion", () => {
    expect(thrown(() => image("x", { variant: "8" })).message).toContain("variant is a CPU variant such as 'v7' or 'v8'");
    expect(thrown(() => ociIndex({ name: "x", images: [image("a")], tag: ["x:1"] } as unknown as OciIndexArgs)).message).toContain("did you mean `tags`?");
  });
});

describe("variant on ociImage", () => {
  it("is absent unless given: the spec, the descriptor and the config keep the seed's shape", () => {
    const plain = image("plain") as Record<string, unknown>;
    expect(plain).not.toHaveProperty("variant");
    const { config } = documents(buildWithScript(image("plain")));
    expect(Object.keys(config)).toEqual(["architecture", "os", "created", "config", "rootfs", "history"]);
  });

  it("is the config's variant, after os", () => {
    const { config } = documents(buildWithScript(image("v8", { architecture: "arm64", variant: "v8" })));
    expect(Object.keys(config).slice(0, 3)).toEqual(["architecture", "os", "variant"]);
    expect([config.architecture, config.variant]).toEqual(["arm64", "v8"]);
  });
});

/** The index spec with each image's build replaced by the layout built here (the engine gives the store path instead). */
function withLayouts(spec: OciIndexSpec, layouts: readonly string[]): OciIndexSpec {
  let i = 0;
  const operations = spec.operations.map((o) => (o._con === "runTool" && o.name.startsWith("add-image-") ? { ...o, args: [...o.args.slice(0, 3), layouts[i++]!, ...o.args.slice(4)] } : o));
  return OciIndexBuilder.forgetAll({ ...spec, operations }) as OciIndexSpec;
}

describe("the index as the shell backend builds it", () => {
  let amd64: string;
  let arm64: string;
  let out: string;
  const tags = ["multi:1.0", "registry.example:5000/team/multi:latest"];
  beforeAll(() => {
    amd64 = buildWithScript(image("app-amd64"));
    arm64 = buildWithScript(image("app-arm64", { architecture: "arm64", variant: "v8" }));
    out = buildWithScript(withLayouts(two({ tags, annotations: { "com.example.team": "builders" } }), [amd64, arm64]));
  });

  it("index.json names the image index once per tag, with the annotations", () => {
    const index = readJson(join(out, "index.json"));
    expect(index.manifests).toHaveLength(2);
    for (const [i, d] of index.manifests.entries()) {
      expect(d.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      expect(d.annotations).toEqual({ "com.example.team": "builders", "org.opencontainers.image.ref.name": tags[i] });
    }
    expect(index.manifests[0].digest).toBe(index.manifests[1].digest);
  });

  it("the image index lists each image's manifest with its platform, and holds every blob of both", () => {
    const index = readJson(join(out, "index.json"));
    const blob = readFileSync(join(out, "blobs/sha256", index.manifests[0].digest.slice(7)));
    expect(`sha256:${createHash("sha256").update(blob).digest("hex")}`).toBe(index.manifests[0].digest);
    expect(blob.length).toBe(index.manifests[0].size);
    const imageIndex = JSON.parse(blob.toString("utf8"));
    expect(imageIndex).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: documents(amd64).manifestDigest, size: expect.any(Number), platform: { architecture: "amd64", os: "linux" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: documents(arm64).manifestDigest, size: expect.any(Number), platform: { architecture: "arm64", os: "linux", variant: "v8" } },
      ],
      annotations: { "com.example.team": "builders" },
    });
    const blobs = (dir: string) => readdirSync(join(dir, "blobs/sha256"));
    expect(blobs(out).sort()).toEqual([...new Set([...blobs(amd64), ...blobs(arm64), index.manifests[0].digest.slice(7)])].sort());
    expect(existsSync(join(out, ".scratch"))).toBe(false);
  });

  it("the image-spec JSON Schemas and verifyOciLayout accept it", async () => {
    const schemas = ociSchemas();
    const index = readJson(join(out, "index.json"));
    expect(schemaErrors(schemas["image-index-schema"], index)).toEqual([]);
    expect(schemaErrors(schemas["image-index-schema"], readJson(join(out, "blobs/sha256", index.manifests[0].digest.slice(7))))).toEqual([]);
    expect(await verifyOciLayout(out)).toEqual({ ok: true, problems: [] });
  });

  it("image.oci.tar is the layout, with no docker-archive manifest.json", () => {
    const members = must("tar", ["-tf", join(out, "image.oci.tar")]).trim().split("\n");
    expect(members).toContain("./index.json");
    expect(members).toContain("./oci-layout");
    expect(members).not.toContain("./manifest.json");
    expect(tarMember(join(out, "image.oci.tar"), "./index.json").toString()).toBe(readFileSync(join(out, "index.json"), "utf8"));
  });

  it("an image whose layout lists no image manifest fails its add-image step, naming it", () => {
    const bad = join(tempDir("bad"), "layout");
    cpSync(amd64, bad, { recursive: true });
    writeFileSync(join(bad, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    expect(() => buildWithScript(withLayouts(two(), [bad, arm64]))).toThrow(/oci-index: image 'app-amd64': .*index\.json lists no image manifest/);
  });

  it("verifyOciLayout names a platform its image's config contradicts, and a platform listed twice", async () => {
    const dir = join(tempDir("edited"), "layout");
    cpSync(out, dir, { recursive: true });
    const index = readJson(join(dir, "index.json"));
    const imageIndex = readJson(join(dir, "blobs/sha256", index.manifests[0].digest.slice(7)));
    imageIndex.manifests[1].platform = { architecture: "amd64", os: "linux" };
    const text = JSON.stringify(imageIndex);
    const digest = createHash("sha256").update(text).digest("hex");
    writeFileSync(join(dir, "blobs/sha256", digest), text);
    writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...index.manifests[0], digest: `sha256:${digest}`, size: text.length }] }));
    const v = await verifyOciLayout(dir);
    expect(v.ok).toBe(false);
    const at = "index.json manifests[0] manifests[1]";
    expect(v.problems).toContain(`${at}: platform linux/amd64 is also manifests[0]'s`);
    expect(v.problems).toContain(`${at}: platform architecture "amd64" but the image config says "arm64"`);
    expect(v.problems).toContain(`${at}: platform variant (none) but the image config says "v8"`);
    copyFileSync(join(out, "index.json"), join(dir, "index.json"));
  });
});
