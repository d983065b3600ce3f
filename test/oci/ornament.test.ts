// The oci-image ornament as data (pure): the seed's program shape, optional tools declared only when used, validation
// of layer names, ports and created, and the ornament law (forget then compile = compile).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MbError } from "../../src/core/errors.js";
import type { Operation } from "../../src/core/operations.js";
import { OciImageBuilder, ociImage, type OciImageArgs } from "../../src/oci/ornament.js";
import { compileSpec, fromSpec } from "../../src/program/program.js";
import { fromOrnamentedSpec } from "../../src/ornaments/ornament.js";
import { compile } from "../../src/program/compile.js";
import { ociStepNames } from "../support/oci-steps.js";

const SEED_STEPS = ociStepNames("busybox");
const STORE_PATH = "/nix/store/mm0g0g122n6pi28759dkkx8cfb2724by-busybox-static-x86_64-unknown-linux-musl-1.37.0";
const seedArgs = (extra: Partial<OciImageArgs> = {}): OciImageArgs => ({
  name: "busybox-shell",
  layers: [{ name: "busybox", source: STORE_PATH }],
  entrypoint: ["/bin/sh"],
  ...extra,
});
type RunTool = Extract<Operation, { _con: "runTool" }>;
const toolsOf = (args: OciImageArgs): string[] => ociImage(args).tools.map((t) => t.name);
const stepsOf = (args: OciImageArgs): string[] => compile(fromSpec(ociImage(args))).steps.map((s) => s.name);
const run = (args: OciImageArgs, name: string): RunTool =>
  ociImage(args).operations.find((o): o is RunTool => o._con === "runTool" && o.name === name)!;

describe("the seed's program", () => {
  it("has 18 operations: 3 declareTool, 1 writeFile, 8 runTool, 1 emitDescriptor, 4 transformOutput, 1 materializeDerivation", () => {
    const ops = ociImage(seedArgs()).operations;
    expect(ops).toHaveLength(18);
    const count = (con: string): number => ops.filter((o) => o._con === con).length;
    expect([count("declareTool"), count("writeFile"), count("runTool"), count("emitDescriptor"), count("transformOutput"), count("materializeDerivation")]).toEqual([3, 1, 8, 1, 4, 1]);
    expect(toolsOf(seedArgs())).toEqual(["bash", "tar", "coreutils"]);
    expect(stepsOf(seedArgs())).toEqual(SEED_STEPS);
  });

  it("keeps the original's assemble-rootfs script and arguments exactly", () => {
    expect(run(seedArgs(), "assemble-rootfs-busybox").args).toEqual([
      "-c",
      `set -euo pipefail
mkdir -p "$out/.scratch/rootfs-busybox"
cp -a "$1"/. "$out/.scratch/rootfs-busybox/"
chmod -R u+w "$out/.scratch/rootfs-busybox"
`,
      "assemble-rootfs-busybox",
      STORE_PATH,
    ]);
  });

  it("one more layer adds exactly its two steps, in layer order", () => {
    const args = seedArgs({ layers: [{ name: "busybox", source: STORE_PATH }, { name: "app", source: "/srv/app" }] });
    expect(ociImage(args).operations).toHaveLength(20);
    expect(stepsOf(args).slice(1, 5)).toEqual(["assemble-rootfs-busybox", "tar-layer-busybox", "assemble-rootfs-app", "tar-layer-app"]);
  });
});

describe("tools beyond the seed's three are declared only when used", () => {
  it.each([
    [{ compression: "gzip" }, ["bash", "tar", "coreutils", "gzip"]],
    [{ compression: "zstd" }, ["bash", "tar", "coreutils", "zstd"]],
    [{ digestTool: "openssl" }, ["bash", "tar", "coreutils", "openssl"]],
    [{ compression: "zstd", digestTool: "openssl", assemble: "direct" }, ["bash", "tar", "coreutils", "zstd", "openssl"]],
    [{ compression: "none", assemble: "direct" }, ["bash", "tar", "coreutils"]],
  ] as const)("%j declares %j, and the steps keep their names", (extra, tools) => {
    expect(toolsOf(seedArgs(extra))).toEqual(tools);
    expect(stepsOf(seedArgs(extra))).toEqual(SEED_STEPS);
    expect(ociImage(seedArgs(extra)).operations).toHaveLength(15 + tools.length);
  });

  it("a layer's own compression overrides the image's, and only the compressors used are declared", () => {
    const args = seedArgs({
      compression: "zstd",
      layers: [{ name: "a", source: "/a", compression: "none" }, { name: "b", source: "/b", compression: "gzip" }],
    });
    expect(toolsOf(args)).toEqual(["bash", "tar", "coreutils", "gzip"]);
    expect(ociImage(args).layers.map((l) => l.compression)).toEqual([undefined, "gzip"]);
  });

  it("records the compressor and its level in the layer descriptor's annotations", () => {
    const script = String(run(seedArgs({ compression: "zstd" }), "write-manifest").args[1]);
    expect(script).toContain(`"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd"`);
    expect(script).toContain(`"annotations":{"io.metabuilder.layer.compression.level":"3","io.metabuilder.layer.compression.tool":"zstd"}`);
    expect(String(run(seedArgs({ compression: "zstd" }), "tar-layer-busybox").args[1])).toContain("zstd -q -3 -T0 --auto-threads=logical -c");
    expect(String(run(seedArgs({ compression: "gzip" }), "tar-layer-busybox").args[1])).toContain("gzip -n -6 -c");
  });
});

describe("validation", () => {
  const error = (args: OciImageArgs): MbError => {
    try {
      ociImage(args);
    } catch (e) {
      return e as MbError;
    }
    throw new Error("expected a validation error");
  };

  it.each(["../etc", "a b", "-x", "", "a/b", "é", "a$out"])("refuses the layer name %j, naming the rule and the place", (name) => {
    const e = error(seedArgs({ layers: [{ name, source: "/x" }] }));
    expect(e).toBeInstanceOf(MbError);
    expect(e.code).toBe("constructor.invalid");
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("layers[0].name: layer names use only letters, digits, '.', '_' and '-', and start with a letter or digit");
  });

  it("accepts the safe charset", () => {
    expect(() => ociImage(seedArgs({ layers: [{ name: "A0._-z", source: "/x" }] }))).not.toThrow();
  });

  it("keeps each port's protocol and makes a bare port tcp", () => {
    const spec = ociImage(seedArgs({ exposedPorts: ["80", "53/udp", "443/tcp", "9/sctp"] }));
    expect(spec.exposedPorts).toEqual(["80/tcp", "53/udp", "443/tcp", "9/sctp"]);
    expect(String(run(seedArgs({ exposedPorts: ["80", "53/udp"] }), "write-config").args[1])).toContain(`"ExposedPorts":{"53/udp":{},"80/tcp":{}}`);
  });

  it.each(["http", "80/icmp", "70000", "0", "80/TCP", " 80"])("refuses the port %j", (port) => {
    expect(error(seedArgs({ exposedPorts: [port] })).message).toMatch(/exposedPorts\[0\]: exposed ports (are written|are at most)/);
  });

  it("takes created as RFC 3339 only", () => {
    expect(String(run(seedArgs({ created: "2024-01-02T03:04:05Z" }), "write-config").args[1])).toContain(`"created":"' 2024-01-02T03:04:05Z '"`);
    expect(error(seedArgs({ created: "yesterday" })).message).toContain("created: created is an RFC 3339 date-time");
  });

  it("needs at least one layer", () => {
    expect(error(seedArgs({ layers: [] })).message).toContain("layers:");
  });
});

describe("the ornament law", () => {
  const text = fc.string({ unit: "binary", maxLength: 12 });
  const args = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    layers: fc.uniqueArray(
      fc.record({ name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,8}$/), source: fc.constant("/srv/rootfs"), compression: fc.constantFrom("none", "gzip", "zstd") }),
      { minLength: 1, maxLength: 3, selector: (l) => l.name },
    ),
    entrypoint: fc.array(text, { maxLength: 3 }),
    cmd: fc.array(text, { maxLength: 3 }),
    env: fc.array(fc.tuple(text.filter((k) => k !== "" && !k.includes("=")), text).map(([k, v]) => `${k}=${v}`), { maxLength: 3 }),
    labels: fc.dictionary(text.filter((k) => k !== "__proto__"), text, { maxKeys: 3 }),
    exposedPorts: fc.array(fc.constantFrom("80", "53/udp", "443/tcp"), { maxLength: 3 }),
  });

  it("compiling the forgotten spec gives the same program as compiling the spec", () => {
    fc.assert(
      fc.property(args, (a) => {
        const spec = ociImage(a);
        expect(fromOrnamentedSpec(OciImageBuilder, spec).operations).toEqual(compileSpec(OciImageBuilder.forget(OciImageBuilder.schema.parse(spec))));
        expect(fromOrnamentedSpec(OciImageBuilder, spec).operations).toEqual(fromSpec(spec).operations);
      }),
      { numRuns: 100 },
    );
  });

  it("user text never reaches a step as a bare `$`: every `$` in a step argument is the script's own", () => {
    fc.assert(
      fc.property(args, (a) => {
        const marker = "\u{1F4B2}"; // text that cannot appear in the scripts themselves
        const spec = ociImage({ ...a, labels: { [`k$out${marker}`]: `v$(id)${marker}` }, cmd: [`$out${marker}`] });
        for (const op of spec.operations) {
          if (op._con !== "runTool") continue;
          for (const arg of op.args) if (typeof arg === "string" && arg.includes(marker)) expect(arg).not.toMatch(/\$out\u{1F4B2}|\$\(id\)/u);
        }
      }),
      { numRuns: 50 },
    );
  });
});
