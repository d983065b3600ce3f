// Attestations from fixed inputs (issue 12 item 5): the attest option of ociImage (absent by default: the program of an
// image without it is unchanged), the attest program run by node on a hand-made layout and build info (valid by
// CycloneDX's own validator and the in-toto/SLSA schema, deterministic, base layers named by digest), and the engine's
// build info of a resolved attested image (valid by its schema; given only to builds whose steps name it).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PackageURL } from "packageurl-js";
import { builderOutput } from "../../src/program/constructors.js";
import { ociImage } from "../../src/oci/ornament.js";
import { ATTEST_PROGRAM } from "../../src/oci/attest/program.js";
import { BuildInfo } from "../../src/core/build-info.js";
import { fromSpec } from "../../src/program/program.js";
import { resolveProgram } from "../../src/engine/resolve.js";
import { hostSystem } from "../../src/engine/system.js";
import { buildInfoOf, wantsBuildInfo } from "../../src/engine/build-info.js";
import { Store } from "../../src/engine/store.js";
import { planViewOf } from "../../src/views/plan-view.js";
import { busyboxRootfs } from "../../examples/oci-image/busybox-rootfs.js";
import { tempDir, removeTempDirs } from "./helpers.js";
import { INTOTO_TYPE, SBOM_TYPE, EMPTY_TYPE, provenanceErrors, referrers, sbomComponents, sbomErrors } from "./attest-support.js";

afterAll(removeTempDirs);

const sha = (b: string | Buffer): string => createHash("sha256").update(b).digest("hex");
const fields = { name: "demo", layers: [{ name: "app", source: "/store/rootfs" }], entrypoint: ["/bin/sh"] };
const stepNames = (spec: ReturnType<typeof ociImage>): string[] => spec.operations.flatMap((op) => (op._con === "runTool" ? [op.name] : []));

describe("the attest option", () => {
  it("is absent by default: no attest step, no node tool, no attest field", () => {
    const spec = ociImage(fields);
    expect(stepNames(spec)).not.toContain("attest");
    expect(spec.tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils"]);
    expect("attest" in spec).toBe(false);
  });

  it("adds the attest step after write-index (scratch still holds the rootfs) and declares node once", () => {
    const spec = ociImage({ ...fields, attest: { sbom: true, provenance: true }, layers: [{ name: "app", source: "/store/rootfs", files: [] }] });
    expect(stepNames(spec)).toEqual(["assemble-rootfs-app", "tar-layer-app", "write-config", "write-manifest", "write-index", "attest", "verify-blobs", "clean-scratch", "archive-layout"]);
    expect(spec.tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils", "node"]);
    expect(spec.attest).toEqual({ sbom: true, provenance: true });
  });

  it("refuses an attest that asks for nothing, and unknown keys with a did-you-mean", () => {
    expect(() => ociImage({ ...fields, attest: {} })).toThrow(/attest: attest asks for nothing: set sbom or provenance/);
    expect(() => ociImage({ ...fields, attest: { sboms: true } as never })).toThrow(/unknown key `sboms` \(did you mean `sbom`\?\)/);
  });

  it("its program holds no `$` (runTool arguments are split on $out)", () => {
    expect(ATTEST_PROGRAM).not.toContain("$");
  });
});

// A hand-made layout as write-index leaves it: a base layer (only in the manifest) and the spec layer `app`.
const ROOTFS = "/store/00000000000000000000000000000001-app-rootfs";
const IMPORT = "/store/00000000000000000000000000000002-hello";
const IMAGE = "/store/00000000000000000000000000000003-demo-oci-image";
const tool = (name: string, pkg: string, version: string | null, arch: string | null) => ({ name, package: pkg, origin: "host", version, arch, outPath: "/usr", contentHash: sha(pkg) });
const INFO: BuildInfo = {
  version: 1,
  system: "x86_64-linux",
  sourceDateEpoch: 1700000000,
  storeDir: "/store",
  sandbox: "bwrap",
  closure: [
    {
      name: "app-rootfs",
      storePath: ROOTFS,
      builder: "runCommand",
      outputHash: `sha256:${sha("rootfs")}`,
      tools: [tool("bash", "bash", "5.2.15-2+b8", "amd64"), tool("busybox", "busybox-static", "1:1.35.0-4+b3", "amd64")],
      imports: [{ name: "hello", storePath: IMPORT, contentHash: sha("hello") }],
      needs: [],
      steps: [{ name: "install", kind: "runStep", shell: "bash -c 'busybox cp ...' install" }],
    },
  ],
  build: {
    name: "demo-oci-image",
    storePath: IMAGE,
    builder: "runCommand",
    outputHash: null,
    tools: [tool("bash", "bash", "5.2.15-2+b8", "amd64"), tool("tar", "tar", "1.34+dfsg-1.2+deb12u1", "amd64"), tool("node", "nodejs", null, null)],
    imports: [],
    needs: [ROOTFS],
    steps: [
      { name: "tar-layer-app", kind: "runStep", shell: "bash -c 'tar ...' tar-layer-app" },
      { name: "attest", kind: "runStep", shell: "bash -c 'node -e ...' attest" },
    ],
  },
};
const CONFIG = { name: "demo", sbom: true, provenance: true, layers: [{ name: "app" }], spec: { architecture: "amd64", os: "linux", entrypoint: ["/bin/sh"] } };

function handLayout(): { out: string; info: string; imageDigest: string; indexBefore: string } {
  const dir = tempDir("attest");
  const out = join(dir, "out");
  const blobs = join(out, "blobs/sha256");
  const rootfs = join(out, ".scratch/rootfs-app");
  mkdirSync(blobs, { recursive: true });
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  writeFileSync(join(rootfs, "bin/busybox"), "not really busybox\n");
  symlinkSync("busybox", join(rootfs, "bin/sh"));
  const layer = (s: string) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${sha(s)}`, size: s.length });
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: layer("config"), layers: [layer("base"), layer("app")] });
  writeFileSync(join(blobs, sha(manifest)), manifest);
  const indexBefore = `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:${sha(manifest)}","size":${manifest.length},"annotations":{"org.opencontainers.image.ref.name":"demo:1"}}]}`;
  writeFileSync(join(out, "index.json"), indexBefore);
  const info = join(dir, "build-info.json");
  writeFileSync(info, JSON.stringify(INFO));
  return { out, info, imageDigest: `sha256:${sha(manifest)}`, indexBefore };
}

function runProgram(out: string, info: string | null): ReturnType<typeof spawnSync> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, out, ...(info === null ? {} : { MB_BUILD_INFO: info }) };
  return spawnSync(process.execPath, ["-e", ATTEST_PROGRAM, JSON.stringify(CONFIG), ROOTFS], { env, encoding: "utf8" });
}

describe("the attest program on fixed inputs", () => {
  const a = handLayout();
  const r = runProgram(a.out, a.info);

  it("runs, and lists the artifacts after the image in index.json, whose image descriptor keeps its bytes", () => {
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const after = readFileSync(join(a.out, "index.json"), "utf8");
    expect(after.startsWith(a.indexBefore.slice(0, -2))).toBe(true);
    const index = JSON.parse(after);
    expect(index.manifests.map((d: { artifactType?: string }) => d.artifactType)).toEqual([undefined, SBOM_TYPE, INTOTO_TYPE]);
    for (const d of index.manifests.slice(1)) expect(d.annotations).toBeUndefined(); // no ref name: skopeo still picks the image
  });

  it("attaches each document as an artifact manifest: artifactType, the empty config, subject = the image manifest", () => {
    const found = referrers(a.out, a.imageDigest);
    expect([...found.keys()].sort()).toEqual([SBOM_TYPE, INTOTO_TYPE].sort());
    for (const [type, att] of found) {
      expect(att.manifest).toMatchObject({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: type,
        config: { mediaType: EMPTY_TYPE, digest: `sha256:${sha("{}")}`, size: 2 },
        layers: [{ mediaType: type, digest: `sha256:${sha(att.text)}`, size: Buffer.byteLength(att.text) }],
        subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: a.imageDigest },
        annotations: { "org.opencontainers.image.created": "2023-11-14T22:13:20Z" },
      });
      expect(att.descriptor.artifactType).toBe(type);
    }
  });

  it("writes a CycloneDX SBOM that CycloneDX's validator accepts: layers, their source entry and files, Debian packages", async () => {
    const sbom = referrers(a.out, a.imageDigest).get(SBOM_TYPE)!;
    expect(await sbomErrors(sbom.text)).toBeNull();
    const all = sbomComponents(sbom.doc);
    const base = all.find((c) => c["bom-ref"] === "layer:0");
    expect(base.properties).toContainEqual({ name: "mb:layer:base", value: "true" });
    expect(base.hashes).toEqual([{ alg: "SHA-256", content: sha("base") }]);
    const source = all.find((c) => c["bom-ref"] === "layer:1:source");
    expect(source).toMatchObject({ name: "app-rootfs", properties: expect.arrayContaining([{ name: "mb:store-path", value: ROOTFS }, { name: "mb:content-hash", value: `sha256:${sha("rootfs")}` }]) });
    expect(source.components).toEqual([
      { type: "file", "bom-ref": "layer:1:file:/bin/busybox", name: "/bin/busybox", hashes: [{ alg: "SHA-256", content: sha("not really busybox\n") }], properties: [{ name: "mb:size", value: "19" }] },
      { type: "file", "bom-ref": "layer:1:file:/bin/sh", name: "/bin/sh", properties: [{ name: "mb:symlink-target", value: "busybox" }] },
    ]);
    const busybox = all.find((c) => c.name === "busybox-static");
    expect(busybox).toMatchObject({ version: "1:1.35.0-4+b3" });
    expect(busybox.purl).toBe(new PackageURL("deb", "debian", "busybox-static", "1:1.35.0-4+b3", { arch: "amd64" }, undefined).toString());
    expect(sbom.doc.dependencies).toContainEqual({ ref: "layer:1:source", dependsOn: [busybox.purl, all.find((c) => c.name === "bash").purl].sort() });
    expect(sbom.doc.metadata.timestamp).toBe("2023-11-14T22:13:20Z");
  });

  it("writes a provenance statement that the in-toto/SLSA schema accepts: every step, every input, SOURCE_DATE_EPOCH", () => {
    const prov = referrers(a.out, a.imageDigest).get(INTOTO_TYPE)!.doc;
    expect(provenanceErrors(prov)).toEqual([]);
    expect(prov.subject).toEqual([{ name: "demo:1", digest: { sha256: a.imageDigest.slice(7) }, annotations: { mediaType: "application/vnd.oci.image.manifest.v1+json" } }]);
    const def = prov.predicate.buildDefinition;
    expect(def.externalParameters.spec.layers).toEqual([{ name: "app", source: ROOTFS }]);
    expect(def.internalParameters.environment.SOURCE_DATE_EPOCH).toBe("1700000000");
    expect(def.internalParameters.builds.map((b: any) => [b.name, b.steps.map((s: any) => s.name)])).toEqual([
      ["app-rootfs", ["install"]],
      ["demo-oci-image", ["tar-layer-app", "attest"]],
    ]);
    for (const b of def.internalParameters.builds) for (const s of b.steps) expect(s.sha256).toBe(sha(s.shell));
    const names = def.resolvedDependencies.map((d: any) => `${d.annotations.kind}:${d.name}`);
    expect(names).toEqual(["build:app-rootfs", "import:hello", "tool:nodejs", "tool:bash", "tool:busybox-static", "tool:tar", "base-layer:base layer 0"]);
    expect(def.resolvedDependencies.find((d: any) => d.name === "busybox-static")).toMatchObject({ uri: "pkg:deb/debian/busybox-static@1:1.35.0-4+b3?arch=amd64", digest: { sha256: sha("busybox-static") } });
    expect(prov.predicate.runDetails).toEqual({ builder: { id: "urn:metabuilder:engine:x86_64-linux:bwrap", version: { "mb-build-info": "1" } }, metadata: { invocationId: IMAGE } });
  });

  it("the validators are not vacuous: a broken SBOM and a broken statement are refused", async () => {
    const found = referrers(a.out, a.imageDigest);
    const sbom = structuredClone(found.get(SBOM_TYPE)!.doc);
    sbom.components[0].hashes[0].alg = "SHA-257";
    expect(await sbomErrors(JSON.stringify(sbom))).not.toBeNull();
    const prov = structuredClone(found.get(INTOTO_TYPE)!.doc);
    delete prov.predicate.buildDefinition.buildType;
    prov.predicate.runDetails.metadata.startedOn = "yesterday";
    expect(provenanceErrors(prov)).toEqual(expect.arrayContaining(["/predicate/buildDefinition must have required property 'buildType'", '/predicate/runDetails/metadata/startedOn must match format "date-time"']));
  });

  it("is deterministic: the same inputs in another directory give the same bytes", () => {
    const b = handLayout();
    expect(runProgram(b.out, b.info).status).toBe(0);
    expect(readFileSync(join(b.out, "index.json"), "utf8")).toBe(readFileSync(join(a.out, "index.json"), "utf8"));
  });

  it("fails clearly when MB_BUILD_INFO is not given (e.g. a rendered shell script)", () => {
    const c = handLayout();
    const r2 = runProgram(c.out, null);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain("oci-image attest: MB_BUILD_INFO is not set");
  });
});

describe("the engine's build info", () => {
  const store = join(tempDir("store"), "store");
  const opts = { storeDir: store, system: hostSystem(), sourceDateEpoch: 1, strict: false };
  const image = (attest: boolean) => ociImage({ name: "bi", layers: [{ name: "busybox", source: builderOutput(busyboxRootfs) }], ...(attest ? { attest: { provenance: true } } : {}) });

  it("is given only to builds whose steps name MB_BUILD_INFO", () => {
    const plain = resolveProgram(fromSpec(image(false)), opts);
    expect(plain.builds.map((b) => wantsBuildInfo(planViewOf(b.plan).steps))).toEqual([false, false]);
    const attested = resolveProgram(fromSpec(image(true)), opts);
    expect(attested.builds.map((b) => wantsBuildInfo(planViewOf(b.plan).steps))).toEqual([false, true]);
  });

  it("describes the build and its closure (resolved tools with Debian versions, steps), valid by its schema", () => {
    const { root } = resolveProgram(fromSpec(image(true)), opts);
    const info = BuildInfo.parse(buildInfoOf(root, new Store(store)));
    expect(info.closure.map((b) => b.name)).toEqual(["busybox-static-rootfs"]);
    expect(info.closure[0]!.outputHash).toBeNull(); // not built in this store
    expect(info.closure[0]!.steps.map((s) => s.name)).toEqual(["install-busybox"]);
    const busybox = info.closure[0]!.tools.find((t) => t.name === "busybox")!;
    expect(busybox).toMatchObject({ package: "busybox-static", origin: "host", outPath: "/usr" });
    expect(busybox.version).toMatch(/^1:1\./);
    expect(busybox.arch).toMatch(/^(amd64|arm64|i386|armhf|all)$/);
    expect(info.build.steps.map((s) => s.name)).toContain("attest");
    expect(info.sourceDateEpoch).toBe(1);
  });
});
