/**
 * The attest step's program: run as `node -e PROGRAM CONFIG SOURCE...` after write-index, it reads the build facts
 * (`$MB_BUILD_INFO`, written by the engine), the image's index, manifest and layer rootfs directories in scratch, and
 * writes a CycloneDX 1.6 SBOM and an in-toto Statement v1 with a SLSA Provenance v1 predicate as OCI artifacts: each a
 * manifest with an `artifactType`, the empty config and a `subject` naming the image manifest, listed in index.json
 * after the image's own descriptors (without a ref name). Everything is sorted and dated by SOURCE_DATE_EPOCH, so two
 * builds write the same bytes. The program holds no `$` (runTool arguments are split on `$out`).
 */

/** The program (CommonJS, for `node -e`). CONFIG is AttestConfig as JSON; each SOURCE is the store path of a layer's rootfs. */
export const ATTEST_PROGRAM = String.raw`"use strict";
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = "application/vnd.oci.empty.v1+json";
const SBOM_TYPE = "application/vnd.cyclonedx+json";
const INTOTO_TYPE = "application/vnd.in-toto+json";
const REF = "org.opencontainers.image.ref.name";
const fail = (m) => { process.stderr.write("oci-image attest: " + m + "\n"); process.exit(1); };
const cfg = JSON.parse(process.argv[1]);
const sources = process.argv.slice(2);
const out = process.env.out;
const infoPath = process.env.MB_BUILD_INFO;
if (!infoPath) fail("MB_BUILD_INFO is not set: the attestations are made from the build facts that mb build gives the step (a rendered shell script cannot make them)");
const info = JSON.parse(fs.readFileSync(infoPath, "utf8"));
const hex = (b) => crypto.createHash("sha256").update(b).digest("hex");
const blobs = path.join(out, "blobs", "sha256");
const scratch = path.join(out, ".scratch");
const byKey = (k) => (a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0);
function hashFile(p) {
  const h = crypto.createHash("sha256"), fd = fs.openSync(p, "r"), buf = Buffer.alloc(1 << 20);
  let n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest("hex");
}
function walk(root) {
  const files = [];
  const go = (dir, rel) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name), r = rel + "/" + name, st = fs.lstatSync(full);
      if (st.isDirectory()) go(full, r);
      else if (st.isSymbolicLink()) files.push({ path: r, link: fs.readlinkSync(full) });
      else if (st.isFile()) files.push({ path: r, sha256: hashFile(full), size: st.size });
    }
  };
  go(fs.realpathSync(root), "");
  return files;
}
// Percent-encoding as packageurl-js writes a purl canonically (':' and '+' of Debian versions stay as they are).
const enc = (s) => encodeURIComponent(s).replace(/%3A/g, ":").replace(/%2B/g, "+");
const purlOf = (t) => "pkg:deb/debian/" + enc(t.package) + "@" + enc(t.version) + (t.arch ? "?arch=" + enc(t.arch) : "");
const uuidOf = (h) => [h.slice(0, 8), h.slice(8, 12), "5" + h.slice(13, 16), ((parseInt(h[16], 16) & 3) | 8).toString(16) + h.slice(17, 20), h.slice(20, 32)].join("-");
const prop = (name, value) => ({ name: name, value: String(value) });

const indexText = fs.readFileSync(path.join(out, "index.json"), "utf8");
const index = JSON.parse(indexText);
const image = index.manifests[0];
const manifest = JSON.parse(fs.readFileSync(path.join(blobs, image.digest.slice(7)), "utf8"));
const imageHex = image.digest.slice(7);
const refName = (image.annotations && image.annotations[REF]) || cfg.name;
const created = new Date(info.sourceDateEpoch * 1000).toISOString().replace(".000Z", "Z");
const builds = info.closure.concat([info.build]);
const buildAt = new Map(builds.map((b) => [b.storePath, b]));
const importAt = new Map();
for (const b of builds) for (const i of b.imports) importAt.set(i.storePath, i);
const nBase = manifest.layers.length - cfg.layers.length;
if (nBase < 0 || sources.length !== cfg.layers.length) fail("the manifest has " + manifest.layers.length + " layers for " + cfg.layers.length + " spec layers");

// Host tools, one component per Debian package (or executable), with the builds that used each.
const tools = new Map();
for (const b of builds) {
  for (const t of b.tools) {
    if (t.origin !== "host") continue;
    const ref = t.version === null ? "host:" + t.package : purlOf(t);
    const seen = tools.get(ref) || { ref: ref, tool: t, names: new Set(), usedBy: new Set() };
    seen.names.add(t.name);
    seen.usedBy.add(b.name);
    tools.set(ref, seen);
  }
}
const toolRefs = (b) => [...new Set(b.tools.filter((t) => t.origin === "host").map((t) => (t.version === null ? "host:" + t.package : purlOf(t))))].sort();

// One component per layer blob; under it, the store entry its rootfs came from; under that, the layer's files.
const layerComponents = [], deps = [];
const imageDeps = [];
manifest.layers.forEach((l, i) => {
  const ref = "layer:" + i;
  imageDeps.push(ref);
  const c = { type: "file", "bom-ref": ref, name: "blobs/sha256/" + l.digest.slice(7), hashes: [{ alg: "SHA-256", content: l.digest.slice(7) }], properties: [prop("mb:layer:index", i), prop("mb:layer:media-type", l.mediaType), prop("mb:layer:size", l.size)] };
  if (i < nBase) {
    c.properties.push(prop("mb:layer:base", "true"));
    layerComponents.push(c);
    return;
  }
  const spec = cfg.layers[i - nBase], src = sources[i - nBase];
  c.properties.push(prop("mb:layer:name", spec.name));
  const built = buildAt.get(src), imported = importAt.get(src);
  const entryRef = ref + ":source";
  const entry = { type: "application", "bom-ref": entryRef, name: built ? built.name : imported ? imported.name : path.basename(src), properties: [prop("mb:store-path", src)] };
  const contentHash = built ? (built.outputHash || "").replace("sha256:", "") : imported ? imported.contentHash : "";
  if (/^[0-9a-f]{64}/.test(contentHash)) entry.properties.push(prop("mb:content-hash", "sha256:" + contentHash));
  entry.properties.push(prop("mb:origin", built ? "build" : imported ? "import" : "store"));
  entry.components = walk(path.join(scratch, "rootfs-" + spec.name)).map((f) => {
    const fc = { type: "file", "bom-ref": ref + ":file:" + f.path, name: f.path };
    if (f.sha256 !== undefined) {
      fc.hashes = [{ alg: "SHA-256", content: f.sha256 }];
      fc.properties = [prop("mb:size", f.size)];
    } else fc.properties = [prop("mb:symlink-target", f.link)];
    return fc;
  });
  c.components = [entry];
  layerComponents.push(c);
  deps.push({ ref: ref, dependsOn: [entryRef] });
  if (built) deps.push({ ref: entryRef, dependsOn: toolRefs(built) });
});
const toolComponents = [...tools.values()].sort(byKey((t) => t.ref)).map((t) => {
  const c = { type: "application", "bom-ref": t.ref, name: t.tool.package };
  if (t.tool.version !== null) {
    c.version = t.tool.version;
    c.purl = t.ref;
  }
  c.properties = [prop("mb:tool-names", [...t.names].sort().join(",")), prop("mb:used-by", [...t.usedBy].sort().join(","))];
  if (t.tool.contentHash) c.properties.push(prop("mb:executables-sha256", t.tool.contentHash));
  return c;
});
for (const t of toolComponents) deps.push({ ref: t["bom-ref"], dependsOn: [] });
deps.unshift({ ref: "image", dependsOn: imageDeps.concat(toolRefs(info.build)) });
for (const c of layerComponents) if (!deps.some((d) => d.ref === c["bom-ref"])) deps.push({ ref: c["bom-ref"], dependsOn: [] });
for (const c of layerComponents) for (const e of c.components || []) if (!deps.some((d) => d.ref === e["bom-ref"])) deps.push({ ref: e["bom-ref"], dependsOn: [] });

const sbom = {
  bomFormat: "CycloneDX",
  specVersion: "1.6",
  serialNumber: "urn:uuid:" + uuidOf(hex("sbom\0" + image.digest)),
  version: 1,
  metadata: {
    timestamp: created,
    tools: { components: [{ type: "application", name: "metabuilder", description: "mb build: the oci-image attest step" }] },
    component: {
      type: "container",
      "bom-ref": "image",
      name: cfg.name,
      version: image.digest,
      purl: "pkg:oci/" + enc(cfg.name) + "@" + enc(image.digest) + "?arch=" + enc(cfg.spec.architecture),
      hashes: [{ alg: "SHA-256", content: imageHex }],
      properties: [prop("mb:store-path", info.build.storePath), prop("mb:ref-name", refName)],
    },
    properties: [prop("mb:source-date-epoch", info.sourceDateEpoch)],
  },
  components: layerComponents.concat(toolComponents),
  dependencies: deps,
};

// The provenance: the spec, every build of the closure with its steps, and a digest for every input.
const resolved = [];
for (const b of info.closure) {
  const r = { uri: "file://" + b.storePath, name: b.name, annotations: { kind: "build", storePath: b.storePath } };
  if (b.outputHash) r.digest = { sha256: b.outputHash.replace("sha256:", "") };
  resolved.push(r);
}
const imports = [...importAt.values()].sort(byKey((i) => i.storePath));
for (const i of imports) resolved.push({ uri: "file://" + i.storePath, name: i.name, digest: { sha256: i.contentHash }, annotations: { kind: "import", storePath: i.storePath, digestOf: "the tree (mb's tree hash)" } });
for (const t of [...tools.values()].sort(byKey((t) => t.ref))) {
  const uri = t.tool.version === null ? "file://" + (t.tool.outPath || "/usr") + "#" + enc(t.tool.package) : t.ref;
  const r = { uri: uri, name: t.tool.package, annotations: { kind: "tool", tools: [...t.names].sort().join(","), usedBy: [...t.usedBy].sort().join(","), digestOf: "the package's executables (name, real path and sha256 of each)" } };
  if (t.tool.version !== null) r.annotations.version = t.tool.version;
  if (t.tool.arch) r.annotations.arch = t.tool.arch;
  if (t.tool.contentHash) r.digest = { sha256: t.tool.contentHash };
  resolved.push(r);
}
for (let i = 0; i < nBase; i++) {
  const l = manifest.layers[i];
  resolved.push({ name: "base layer " + i, digest: { sha256: l.digest.slice(7) }, mediaType: l.mediaType, annotations: { kind: "base-layer" } });
}
const stepsOf = (b) => b.steps.map((s) => ({ name: s.name, kind: s.kind, sha256: hex(s.shell), shell: s.shell }));
const provenance = {
  _type: "https://in-toto.io/Statement/v1",
  subject: [{ name: refName, digest: { sha256: imageHex }, annotations: { mediaType: image.mediaType } }],
  predicateType: "https://slsa.dev/provenance/v1",
  predicate: {
    buildDefinition: {
      buildType: "urn:metabuilder:oci-image:v1",
      externalParameters: { builder: cfg.name, spec: Object.assign({}, cfg.spec, { layers: cfg.layers.map((l, i) => Object.assign({}, l, { source: sources[i] })) }) },
      internalParameters: {
        sourceDateEpoch: info.sourceDateEpoch,
        environment: { SOURCE_DATE_EPOCH: String(info.sourceDateEpoch), LC_ALL: "C" },
        system: info.system,
        sandbox: info.sandbox,
        storeDir: info.storeDir,
        builds: builds.map((b) => ({ name: b.name, storePath: b.storePath, builder: b.builder, steps: stepsOf(b) })),
      },
      resolvedDependencies: resolved,
    },
    runDetails: {
      builder: { id: "urn:metabuilder:engine:" + info.system + ":" + info.sandbox, version: { "mb-build-info": String(info.version) } },
      metadata: { invocationId: info.build.storePath },
    },
  },
};

// Attach: each document a blob, under an artifact manifest whose subject is the image manifest.
const put = (name, bytes) => {
  const d = hex(bytes);
  fs.writeFileSync(path.join(blobs, d), bytes);
  fs.writeFileSync(path.join(scratch, "attest-" + name + ".digest"), d);
  fs.writeFileSync(path.join(scratch, "attest-" + name + ".size"), String(bytes.length));
  return { digest: "sha256:" + d, size: bytes.length };
};
const empty = put("empty", Buffer.from("{}"));
const added = [];
const attach = (name, type, doc) => {
  const blob = put(name, Buffer.from(JSON.stringify(doc)));
  const m = {
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: type,
    config: { mediaType: EMPTY, digest: empty.digest, size: empty.size },
    layers: [{ mediaType: type, digest: blob.digest, size: blob.size }],
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    annotations: { "org.opencontainers.image.created": created },
  };
  const md = put(name + "-manifest", Buffer.from(JSON.stringify(m)));
  added.push({ mediaType: MANIFEST, digest: md.digest, size: md.size, artifactType: type });
};
if (cfg.sbom) attach("sbom", SBOM_TYPE, sbom);
if (cfg.provenance) attach("provenance", INTOTO_TYPE, provenance);
if (!indexText.endsWith("]}")) fail("index.json does not end its manifests list where expected");
fs.writeFileSync(path.join(out, "index.json"), indexText.slice(0, -2) + added.map((d) => "," + JSON.stringify(d)).join("") + "]}");
`;
