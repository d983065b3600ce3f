// pushLayout over what an OCI layout can hold beyond one image: a two-platform image index (children pushed first,
// each platform readable by skopeo) and an SBOM artifact whose subject is the index (pushed after it, listed under the
// referrers tag `sha256-<hex>` since distribution 2.8 has no referrers API, merged with what the tag listed before).
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MbError } from "../../src/core/errors.js";
import { parseReference, RegistryClient } from "../../src/registry/index.js";
import { pushLayout, type PushEvent } from "../../src/registry/push.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-push-layout");
let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  dirs.removeAll();
});

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  [k: string]: unknown;
}

/** Writes a blob into a layout and returns its descriptor. */
function put(layout: string, mediaType: string, content: string | object, extra: Record<string, unknown> = {}): Desc {
  const bytes = Buffer.from(typeof content === "string" ? content : JSON.stringify(content));
  const hex = createHash("sha256").update(bytes).digest("hex");
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(layout, "blobs", "sha256", hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length, ...extra };
}

const INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** A layout: an index over an amd64 and an arm64 image, and an SBOM artifact (text `sbom`) whose subject is the index. */
function multiPlatform(sbom: string): { layout: string; index: Desc; platforms: Desc[]; artifact: Desc } {
  const layout = join(dirs.tempDir("layout"), "oci");
  mkdirSync(layout, { recursive: true });
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const platforms = (["amd64", "arm64"] as const).map((architecture) => {
    const layer = put(layout, "application/vnd.oci.image.layer.v1.tar", `layer for ${architecture}`);
    const config = put(layout, "application/vnd.oci.image.config.v1+json", { architecture, os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } });
    return put(layout, MANIFEST, { schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] }, { platform: { architecture, os: "linux" } });
  });
  const index = put(layout, INDEX, { schemaVersion: 2, mediaType: INDEX, manifests: platforms });
  const empty = put(layout, "application/vnd.oci.empty.v1+json", "{}");
  const doc = put(layout, "application/spdx+json", sbom);
  const { platform: _, ...subject } = index;
  const artifact = put(layout, MANIFEST, {
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: "application/spdx+json",
    config: empty,
    layers: [doc],
    subject,
    annotations: { "org.opencontainers.image.created": "1970-01-01T00:00:01Z" },
  });
  writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ ...index, annotations: { "org.opencontainers.image.ref.name": "multi" } }, artifact] }));
  return { layout, index, platforms, artifact };
}

describe("pushLayout of an image index with an SBOM artifact", () => {
  it("pushes the platforms, then the index, then the artifact and its referrers tag, and tags the index last", async () => {
    const { layout, index, platforms, artifact } = multiPlatform('{"spdxVersion":"SPDX-2.3"}');
    const client = new RegistryClient(reg.host);
    const events: PushEvent[] = [];
    const result = await pushLayout(layout, parseReference(`docker://${reg.host}/multi:1`), client, { tags: ["stable"], onEvent: (e) => events.push(e) });
    expect(result).toEqual({
      digest: index.digest,
      mediaType: INDEX,
      reference: `docker://${reg.host}/multi@${index.digest}`,
      tags: [`docker://${reg.host}/multi:1`, `docker://${reg.host}/multi:stable`],
      manifests: platforms.map((p) => p.digest),
      referrers: [artifact.digest],
      blobs: { uploaded: 6, existing: 0, mounted: 0 },
    });
    const puts = reg.requests().filter((r) => r.startsWith("PUT /v2/multi/manifests/")).map((r) => r.split(" ")[1]!.slice("/v2/multi/manifests/".length));
    const referrersTag = index.digest.replace(":", "-");
    expect(puts).toEqual([platforms[0]!.digest, platforms[1]!.digest, index.digest, artifact.digest, referrersTag, "1", "stable"]);
    expect(events.filter((e) => e.event === "push-manifest").map((e) => e.digest)).toEqual([platforms[0]!.digest, platforms[1]!.digest, index.digest, artifact.digest]);

    const referrers = JSON.parse(Buffer.from((await client.getManifest("multi", referrersTag)).bytes).toString("utf8"));
    expect(referrers).toEqual({
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [{ mediaType: MANIFEST, digest: artifact.digest, size: artifact.size, artifactType: "application/spdx+json", annotations: { "org.opencontainers.image.created": "1970-01-01T00:00:01Z" } }],
    });
    expect((await client.listTags("multi")).sort()).toEqual(["1", referrersTag, "stable"].sort());
  });

  it("skopeo reads each platform of the pushed index", () => {
    const which = spawnSync("sh", ["-c", "command -v skopeo"]);
    if (which.status !== 0) throw new Error("required tool 'skopeo' is not installed: apt-get install skopeo");
    for (const arch of ["amd64", "arm64"]) {
      const r = spawnSync("skopeo", ["inspect", "--tls-verify=false", "--override-arch", arch, "--config", `docker://${reg.host}/multi:1`], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toMatchObject({ architecture: arch, os: "linux" });
    }
  });

  it("a second artifact for the same subject is added to the referrers tag, and the rest is skipped", async () => {
    const { layout, index, artifact } = multiPlatform('{"spdxVersion":"SPDX-2.3","name":"second"}');
    const client = new RegistryClient(reg.host);
    const result = await pushLayout(layout, parseReference(`docker://${reg.host}/multi:1`), client);
    expect(result.blobs).toEqual({ uploaded: 1, existing: 5, mounted: 0 });
    const referrers = JSON.parse(Buffer.from((await client.getManifest("multi", index.digest.replace(":", "-"))).bytes).toString("utf8"));
    expect(referrers.manifests.map((m: Desc) => m.digest)).toHaveLength(2);
    expect(referrers.manifests[1].digest).toBe(artifact.digest);
  });

  it("a digest reference must be the image's digest; a layout listing two images is refused (exit 2)", async () => {
    const { layout, index } = multiPlatform("{}");
    const client = new RegistryClient(reg.host);
    const wrong = `sha256:${"0".repeat(64)}`;
    await expect(pushLayout(layout, parseReference(`docker://${reg.host}/multi@${wrong}`), client)).rejects.toThrow(`the image of ${layout} has digest ${index.digest}, not the ${wrong} of the reference`);
    const two = join(dirs.tempDir("two"), "oci");
    mkdirSync(two);
    writeFileSync(join(two, "oci-layout"), "{}");
    const a = put(two, MANIFEST, { schemaVersion: 2, mediaType: MANIFEST, config: put(two, "application/vnd.oci.image.config.v1+json", {}), layers: [] });
    const b = put(two, MANIFEST, { schemaVersion: 2, mediaType: MANIFEST, config: put(two, "application/vnd.oci.image.config.v1+json", { os: "linux" }), layers: [] });
    writeFileSync(join(two, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [a, b] }));
    const e = await pushLayout(two, parseReference(`docker://${reg.host}/two:1`), client).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MbError);
    expect((e as MbError).exitCode).toBe(2);
    expect((e as MbError).message).toBe(`${two} is not an OCI image layout: its index.json lists 2 images (${a.digest}, ${b.digest}); push needs one image or one image index`);
  });
});
