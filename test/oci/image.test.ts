// Built images, end to end (the plan rendered to shell and run): any label, env, cmd and entrypoint text survives byte
// for byte into the config skopeo reads back; layers keep their order; ports keep their protocol; a source that is not a
// directory fails clearly; the options that change how a layer is made never change what it is.
import { chmodSync, existsSync, linkSync, readdirSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { COMPRESSION_LEVEL_ANNOTATION, COMPRESSION_TOOL_ANNOTATION } from "../../src/oci/media-types.js";
import { ociImage, type OciImageArgs } from "../../src/oci/ornament.js";
import { verifyOciLayout } from "../../src/oci/engine/verify.js";
import { VARIANTS, buildWithScript, canonicalModes, documents, filesOf, mb, mbBuild, must, requireTool, runScript, specFile, tempDir, treeOf, removeTempDirs } from "./helpers.js";

// Real builds and real tools: generous limits, for a loaded machine running the whole suite at once.
vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
afterAll(removeTempDirs);

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
let tiny: string;
beforeAll(() => {
  tiny = treeOf({ "hello.txt": "hi\n" });
});

const configBySkopeo = (layout: string, name: string): any =>
  JSON.parse(must(requireTool("skopeo"), ["inspect", "--config", `oci:${layout}:${name}`]));

describe("config text is data, never shell", () => {
  // Strings full of what a shell or printf would act on, and any unicode besides.
  const nasty = fc.oneof(
    fc.string({ unit: "binary", maxLength: 24 }),
    fc.constantFrom("$out", "$(id)", "`id`", "${HOME}", "'", '"', "\\", "\\n", "\n", "%s%d%%", "\u0000", "\u2028", "é😀", "-n", "$out/x$out", "'\"$out\"'"),
    fc.array(fc.constantFrom("$", "out", "'", '"', "\\", "`", "\n", "%", "(", ")", "{", "}", " ", "é"), { maxLength: 12 }).map((a) => a.join("")),
  );

  it("random labels, env, cmd and entrypoint come back byte for byte through skopeo (property)", () => {
    requireTool("skopeo");
    fc.assert(
      fc.property(
        fc.record({
          // `__proto__` is refused as a key (test/core/strict.test.ts), so it is not generated here.
          labels: fc.dictionary(nasty.filter((k) => k !== "__proto__"), nasty, { maxKeys: 4 }),
          // env entries are KEY=value (a non-empty KEY without '='); everything else about them is anything.
          env: fc.array(fc.tuple(nasty.filter((k) => k !== "" && !k.includes("=")), nasty).map(([k, v]) => `${k}=${v}`), { maxLength: 4 }),
          cmd: fc.array(nasty, { maxLength: 4 }),
          entrypoint: fc.array(nasty, { maxLength: 3 }),
        }),
        (a) => {
          const out = buildWithScript(ociImage({ name: "prop", layers: [{ name: "l", source: tiny }], ...a }));
          const c = configBySkopeo(out, "prop").config ?? {};
          expect(c.Labels ?? {}).toEqual(a.labels);
          expect(c.Env ?? []).toEqual(a.env);
          expect(c.Cmd ?? []).toEqual(a.cmd);
          expect(c.Entrypoint ?? []).toEqual(a.entrypoint);
          // Byte for byte: the blob is exactly what JSON.stringify makes of the same values, `$` aside (\u0024).
          const blob = readFileSync(join(out, "blobs/sha256", documents(out).configDigest.slice(7)), "utf8");
          expect(JSON.parse(blob).config).toEqual(c);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("an image name with quotes and $out is only a ref annotation", () => {
    const name = `we'ird "$out" $(touch /tmp/mb-oci-pwned)`;
    const out = buildWithScript(ociImage({ name, layers: [{ name: "l", source: tiny }] }));
    expect(documents(out).index.manifests[0].annotations).toEqual({ "org.opencontainers.image.ref.name": name });
    expect(JSON.parse(must("tar", ["-xOf", join(out, "image.oci.tar"), "./manifest.json"]))[0].RepoTags).toEqual([]);
    expect(() => readFileSync("/tmp/mb-oci-pwned")).toThrow();
  });
});

describe("config text through mb build", () => {
  it("random labels, env, cmd and entrypoint survive byte for byte when the engine builds them (property, few runs)", () => {
    requireTool("skopeo");
    const store = join(tempDir("mb-prop"), "store");
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 16 }), fc.constantFrom("$out", "'$out'", "`id`", "\\", "\n", "%s", "$(id)"));
    fc.assert(
      fc.property(fc.record({ labels: fc.dictionary(text.filter((k) => k !== "__proto__"), text, { maxKeys: 3 }), env: fc.array(fc.tuple(text.filter((k) => k !== "" && !k.includes("=")), text).map(([k, v]) => `${k}=${v}`), { maxLength: 3 }), cmd: fc.array(text, { maxLength: 3 }), entrypoint: fc.array(text, { maxLength: 2 }) }), (a) => {
        const out = mbBuild(specFile(ociImage({ name: "prop", layers: [{ name: "l", source: tiny }], ...a })), store);
        const c = configBySkopeo(out, "prop").config ?? {};
        expect([c.Labels ?? {}, c.Env ?? [], c.Cmd ?? [], c.Entrypoint ?? []]).toEqual([a.labels, a.env, a.cmd, a.entrypoint]);
      }),
      { numRuns: 6 },
    );
  });

  it("a `__proto__` label in a JSON spec is exit 2 naming its path, and nothing lands in the store", () => {
    const store = join(tempDir("mb-proto"), "store");
    const file = join(tempDir("spec"), "spec.json");
    const text = JSON.stringify(ociImage({ name: "proto", layers: [{ name: "l", source: tiny }], labels: { a: "b" } }));
    writeFileSync(file, text.replace('"labels":{"a":"b"}', '"labels":{"__proto__":"$out","a":"b"}'));
    const r = mb(["build", file, "--no-out-link"], { store });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("labels.__proto__: the key `__proto__` is not allowed");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(store) ? readdirSync(store).filter((e) => !e.startsWith(".")) : []).toEqual([]);
  });
});

describe("layers", () => {
  it("keep their order: diff_ids, blobs and history follow the layers, and the last one wins in umoci's rootfs", () => {
    const names = ["base", "mid", "top"];
    const layers = names.map((n) => ({ name: n, source: treeOf({ "which.txt": `${n}\n`, [`${n}.txt`]: n }) }));
    const out = buildWithScript(ociImage({ name: "ordered", layers }));
    const { manifest, config } = documents(out);
    const tars = manifest.layers.map((l: { digest: string }) => must("tar", ["-tf", join(out, "blobs/sha256", l.digest.slice(7))]));
    expect(tars.map((t: string) => names.find((n) => t.includes(`./${n}.txt`)))).toEqual(names);
    expect(config.rootfs.diff_ids).toEqual(manifest.layers.map((l: { digest: string }) => l.digest));
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toEqual(names.map((n) => `metabuilder oci-image: layer ${n}`));
    const bundle = join(tempDir("umoci"), "b");
    must(requireTool("umoci"), ["unpack", "--image", `${out}:ordered`, bundle]);
    expect(readFileSync(join(bundle, "rootfs/which.txt"), "utf8")).toBe("top\n");
    expect(readFileSync(join(bundle, "rootfs/base.txt"), "utf8")).toBe("base");
  });

  it("mixed compressions: media types, annotations, and diff_ids that are the digests of the uncompressed tars", async () => {
    const layers = [
      { name: "plain", source: treeOf({ a: "a".repeat(5000) }), compression: "none" as const },
      { name: "gz", source: treeOf({ b: "b".repeat(5000) }), compression: "gzip" as const },
      { name: "zs", source: treeOf({ c: "c".repeat(5000) }), compression: "zstd" as const },
    ];
    const out = buildWithScript(ociImage({ name: "mixed", layers }));
    const { manifest, config } = documents(out);
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
    ]);
    expect(manifest.layers.map((l: { annotations?: unknown }) => l.annotations)).toEqual([
      undefined,
      { [COMPRESSION_LEVEL_ANNOTATION]: "6", [COMPRESSION_TOOL_ANNOTATION]: "gzip" },
      { [COMPRESSION_LEVEL_ANNOTATION]: "3", [COMPRESSION_TOOL_ANNOTATION]: "zstd" },
    ]);
    const blob = (i: number): string => join(out, "blobs/sha256", manifest.layers[i].digest.slice(7));
    const plain = [
      readFileSync(blob(0)),
      Buffer.from(must("bash", ["-c", 'gzip -dc "$1" | base64 -w0', "x", blob(1)]), "base64"),
      Buffer.from(must("bash", ["-c", 'zstd -dcq "$1" | base64 -w0', "x", blob(2)]), "base64"),
    ];
    expect(config.rootfs.diff_ids).toEqual(plain.map(sha256));
    expect(plain[1]!.length).toBeGreaterThan(readFileSync(blob(1)).length);
    expect(await verifyOciLayout(out)).toEqual({ ok: true, problems: [] });
  });
});

describe("exposed ports", () => {
  it("keep their protocol, and a bare port becomes tcp, as skopeo reads them", () => {
    const out = buildWithScript(ociImage({ name: "ports", layers: [{ name: "l", source: tiny }], exposedPorts: ["80", "53/udp", "443/tcp", "53/tcp"] }));
    expect(configBySkopeo(out, "ports").config.ExposedPorts).toEqual({ "443/tcp": {}, "53/tcp": {}, "53/udp": {}, "80/tcp": {} });
  });
});

describe("a layer source that is not a directory", () => {
  it("mb build fails in step assemble-rootfs-<layer>, and says Not a directory", () => {
    const store = join(tempDir("mb-notdir"), "store");
    const r = mb(["build", `${VARIANTS}#notDirectory`, "--no-out-link"], { store });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("step 2/9 'assemble-rootfs-app' exited with status 1");
    expect(r.stderr).toMatch(/cp: cannot stat '.*-not-a-directory\.txt\/\.': Not a directory/);
    const direct = mb(["build", `${VARIANTS}#notDirectoryDirect`, "--no-out-link"], { store });
    expect(direct.status).toBe(1);
    expect(direct.stderr).toMatch(/oci-image: layer 'app': source '.*-not-a-directory\.txt' is not a directory/);
  });

  const file = (): string => {
    const p = join(tempDir("notdir"), "rootfs.tar");
    writeFileSync(p, "not a directory");
    return p;
  };

  it("fails the build in assemble-rootfs-<layer> with the original's script (cp: Not a directory)", () => {
    const dir = tempDir("build");
    const src = file();
    const r = runScript(ociImage({ name: "bad", layers: [{ name: "app", source: src }] }), join(dir, "out"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`cp: cannot stat '${src}/.': Not a directory`);
  });

  it("fails with a message naming the layer and the source when assemble is direct", () => {
    const dir = tempDir("build");
    const src = file();
    for (const source of [src, join(dir, "missing")]) {
      const r = runScript(ociImage({ name: "bad", layers: [{ name: "app", source }], assemble: "direct" }), join(dir, "out"));
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`oci-image: layer 'app': source '${source}' is not a directory\n`);
    }
  });
});

describe("how a layer is made never changes what it is", () => {
  // A rootfs as the store keeps one (read-only modes) with the kinds of entries tar treats specially.
  let rootfs: string;
  beforeAll(() => {
    rootfs = treeOf({ "bin/tool": "#!/bin/sh\necho tool\n", "etc/conf": "x=1\n", "share/doc/readme": "read me\n", "empty": null });
    chmodSync(join(rootfs, "bin/tool"), 0o755);
    symlinkSync("tool", join(rootfs, "bin/alias"));
    symlinkSync("/etc/conf", join(rootfs, "abs-link"));
    linkSync(join(rootfs, "etc/conf"), join(rootfs, "etc/hardlink"));
    mkdirSync(join(rootfs, "deep/a/b/c"), { recursive: true });
    writeFileSync(join(rootfs, "deep/a/b/c/" + "n".repeat(120)), "long name\n");
    canonicalModes(rootfs);
  });
  const layout = (extra: Partial<OciImageArgs>): Map<string, Buffer> =>
    filesOf(buildWithScript(ociImage({ name: "same", layers: [{ name: "root", source: rootfs }], entrypoint: ["/bin/tool"], ...extra })));

  it("assemble: direct (no copy, tar --mode=u+w) gives the same bytes as the original's cp -a and chmod -R u+w", () => {
    const out = buildWithScript(ociImage({ name: "same", layers: [{ name: "root", source: rootfs }], entrypoint: ["/bin/tool"] }));
    expect(layout({ assemble: "direct" })).toEqual(filesOf(out));
    // What both made: the store's read-only modes made writable, owners 0, the hard link kept.
    const listing = must("tar", ["-tvf", join(out, "blobs/sha256", documents(out).manifest.layers[0].digest.slice(7))]);
    expect(listing).toContain("drwxr-xr-x 0/0               0 1970-01-01 00:00 ./\n");
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +20 1970-01-01 00:00 \.\/bin\/tool$/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0 +4 1970-01-01 00:00 \.\/etc\/conf$/m);
    expect(listing).toMatch(/^dr-xr-xr-x|^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 \.\/empty\/$/m);
    expect(listing).toContain("./etc/hardlink link to ./etc/conf");
  });

  it("digestTool: openssl gives the same bytes as coreutils' sha256sum", () => {
    expect(layout({ digestTool: "openssl", compression: "zstd" })).toEqual(layout({ compression: "zstd" }));
    expect(layout({ digestTool: "openssl", assemble: "direct" })).toEqual(layout({}));
  });

  it("verifyBlobs: store gives the same bytes; mb build declares the blobs oci-blobs and its store checks them", async () => {
    const fast = { assemble: "direct", digestTool: "openssl", verifyBlobs: "store" } as const;
    expect(layout(fast)).toEqual(layout({}));
    const spec = ociImage({ name: "same", layers: [{ name: "root", source: rootfs }], entrypoint: ["/bin/tool"], ...fast });
    expect(spec.outputs.find((o) => o.name === "blobs")?.format).toBe("oci-blobs");
    const verify = spec.operations.find((o) => o._con === "runTool" && o.name === "verify-blobs");
    expect(JSON.stringify(verify)).not.toContain("openssl dgst");
    const store = tempDir("store");
    const built = mbBuild(specFile(spec), store);
    expect(await verifyOciLayout(built)).toEqual({ ok: true, problems: [] });
    expect(mb(["log", built], { store }).stdout).toMatch(/mb: sealed \d+ files/);
  });

  it("the installed zstd writes the same frames with 1 or 2 threads (what -T0 relies on)", () => {
    const data = join(tempDir("zstd"), "data");
    writeFileSync(data, Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.alloc(65536, i % 7))));
    const z = (t: string): string => must("bash", ["-c", `zstd -q -3 ${t} -c "$1" | sha256sum`, "x", data]);
    expect(z("-T1")).toBe(z("-T2"));
    expect(z("-T0")).toBe(z("-T2"));
    expect(z("-T0 --auto-threads=logical")).toBe(z("-T1"));
  });
});

describe("created and history", () => {
  it("created comes from SOURCE_DATE_EPOCH by default, one history entry per layer", () => {
    const dir = tempDir("epoch");
    const spec = ociImage({ name: "c", layers: [{ name: "a", source: tiny }, { name: "b", source: tiny }] });
    expect(runScript(spec, join(dir, "out"), { epoch: "1700000000" }).status).toBe(0);
    const { config } = documents(join(dir, "out"));
    expect(config.created).toBe("2023-11-14T22:13:20Z");
    expect(config.history).toEqual([
      { created: "2023-11-14T22:13:20Z", created_by: "metabuilder oci-image: layer a" },
      { created: "2023-11-14T22:13:20Z", created_by: "metabuilder oci-image: layer b" },
    ]);
    expect(must("tar", ["-tvf", join(dir, "out/image.oci.tar")])).toContain("2023-11-14 22:13 ./index.json");
  });

  it("an explicit created wins over SOURCE_DATE_EPOCH", () => {
    const out = buildWithScript(ociImage({ name: "c", layers: [{ name: "a", source: tiny }], created: "2024-02-29T12:00:00+01:00" }));
    expect(configBySkopeo(out, "c").created).toBe("2024-02-29T12:00:00+01:00");
    expect(JSON.parse(must(requireTool("skopeo"), ["inspect", `oci:${out}:c`])).Created).toBe("2024-02-29T12:00:00+01:00");
  });
});
