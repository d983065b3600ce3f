// The oci-image ornament (reference section 6): the ociImage constructor's spec and the program it lowers to.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { ociStepNames } from "../support/oci-steps.js";

const busybox = mb.hostPackage("busybox-static");
const smoke = mb.evidence({ name: "smoke-test", payload: { command: "/bin/sh -c 'echo oci-smoke-ok'", expectedOutput: "oci-smoke-ok" } });
const STEP_NAMES = ["write:oci-layout", "assemble-rootfs-busybox", "tar-layer-busybox", "write-config", "write-manifest", "write-index", "verify-blobs", "clean-scratch", "archive-layout"];
const TAR_FLAGS =
  'LC_ALL=C tar --sort=name --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner';

const counts = (ops: readonly mb.Operation[]) => {
  const c: Record<string, number> = {};
  for (const op of ops) c[op._con] = (c[op._con] ?? 0) + 1;
  return c;
};

describe("ociImage with a single layer", () => {
  const spec = mb.ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source: busybox }], entrypoint: ["/bin/sh"] });
  const ops = spec.operations;
  const runs = ops.filter((o): o is mb.OpOf<"runTool"> => o._con === "runTool");
  const script = (name: string) => runs.find((r) => r.name === name)!.args[1] as string;

  it("gives 18 operations: declareTool 3, writeFile 1, runTool 8, emitDescriptor 1, transformOutput 4, materializeDerivation 1", () => {
    expect(ops).toHaveLength(18);
    expect(counts(ops)).toEqual({ declareTool: 3, writeFile: 1, runTool: 8, emitDescriptor: 1, transformOutput: 4, materializeDerivation: 1 });
  });

  it("in the reference's order", () => {
    expect(ops.map((o) => `${o._con} ${"name" in o ? o.name : o._con === "declareTool" ? o.tool.name : o._con === "writeFile" || o._con === "transformOutput" ? o.output.name : o._con === "emitDescriptor" ? o.descriptor.name : ""}`)).toEqual([
      "declareTool bash",
      "declareTool tar",
      "declareTool coreutils",
      "writeFile oci-layout",
      "runTool assemble-rootfs-busybox",
      "runTool tar-layer-busybox",
      "runTool write-config",
      "runTool write-manifest",
      "runTool write-index",
      "runTool verify-blobs",
      "runTool clean-scratch",
      "runTool archive-layout",
      "emitDescriptor busybox-shell-oci-image",
      "transformOutput oci-layout",
      "transformOutput index",
      "transformOutput blobs",
      "transformOutput oci-archive",
      "materializeDerivation busybox-shell-oci-image",
    ]);
  });

  it("keeps the image fields with the reference's defaults, and empty parameters, inputs, dependencies", () => {
    expect(spec).toMatchObject({
      _con: "MetaBuilderSpec",
      name: "busybox-shell",
      layers: [{ _con: "MetaBuilderOciLayer", name: "busybox", source: busybox }],
      entrypoint: ["/bin/sh"],
      cmd: [],
      env: [],
      exposedPorts: [],
      labels: {},
      architecture: "amd64",
      os: "linux",
      parameters: [],
      inputs: [],
      dependencies: [],
      evidence: [],
    });
    expect(spec.tools.map((t) => [t.name, t.package])).toEqual([
      ["bash", mb.hostPackage("bash")],
      ["tar", mb.hostPackage("tar")],
      ["coreutils", mb.hostPackage("coreutils")],
    ]);
  });

  it("declares the four outputs", () => {
    expect(spec.outputs.map((o) => [o.name, o.path, o.format])).toEqual([
      ["oci-layout", "oci-layout", "json"],
      ["index", "index.json", "json"],
      ["blobs", "blobs", "tree"],
      ["oci-archive", "image.oci.tar", "tar"],
    ]);
  });

  it("writes oci-layout and emits the image descriptor", () => {
    expect(ops[3]).toEqual({ _con: "writeFile", output: spec.outputs[0], text: '{"imageLayoutVersion":"1.0.0"}' });
    expect(ops[12]).toEqual({
      _con: "emitDescriptor",
      descriptor: { _con: "MetaBuilderDescriptor", name: "busybox-shell-oci-image", payload: { kind: "oci-image", entrypoint: ["/bin/sh"], exposedPorts: [], labels: {}, architecture: "amd64", os: "linux" } },
    });
    expect(ops[17]).toEqual({ _con: "materializeDerivation", name: "busybox-shell-oci-image", builder: "runCommand" });
  });

  it("every assembly step is bash -c <script> <step name> [args]", () => {
    for (const r of runs) {
      expect(r.tool.name).toBe("bash");
      expect(r.args[0]).toBe("-c");
      expect(typeof r.args[1]).toBe("string");
      expect(r.args[2]).toBe(r.name);
    }
    expect(runs.find((r) => r.name === "assemble-rootfs-busybox")!.args.slice(3)).toEqual([busybox]);
    expect(runs.filter((r) => r.name !== "assemble-rootfs-busybox").every((r) => r.args.length === 3)).toBe(true);
  });

  it("follows the reference's assembly facts", () => {
    expect(script("assemble-rootfs-busybox")).toContain('cp -a "$1"/. "$out/.scratch/rootfs-busybox/"');
    expect(script("assemble-rootfs-busybox")).toContain('chmod -R u+w "$out/.scratch/rootfs-busybox"');
    expect(script("tar-layer-busybox")).toContain(TAR_FLAGS);
    expect(script("write-manifest")).toContain("application/vnd.oci.image.manifest.v1+json");
    expect(script("write-manifest")).toContain("application/vnd.oci.image.config.v1+json");
    expect(script("write-manifest")).toContain("application/vnd.oci.image.layer.v1.tar");
    expect(script("write-index")).toContain("org.opencontainers.image.ref.name");
    expect(script("write-index")).toContain(`ref='"busybox-shell"'`);
    expect(script("verify-blobs")).toContain("sha256sum");
    expect(script("clean-scratch")).toContain('rm -rf "$out/.scratch"');
    expect(script("archive-layout")).toContain(TAR_FLAGS);
    expect(script("archive-layout")).toContain('-cf "$TMPDIR/image.oci.tar"');
    expect(script("archive-layout")).toContain('mv "$TMPDIR/image.oci.tar" "$out/image.oci.tar"');
    for (const r of runs) expect(script(r.name).startsWith("set -euo pipefail\n")).toBe(true);
  });

  it("its plan has the 9 steps of section 6 and the name <name>-oci-image", () => {
    const plan = mb.compile(mb.fromSpec(spec));
    expect(plan.steps.map((s) => s.name)).toEqual(STEP_NAMES);
    expect(plan.name).toBe("busybox-shell-oci-image");
    expect(plan.tools.map((t) => t.name)).toEqual(["bash", "tar", "coreutils"]);
  });

  it("each step's rendered shell passes bash -n", async () => {
    const { spawnSync } = await import("node:child_process");
    const shell = mb.planView(mb.fromSpec(spec)).shell;
    const r = spawnSync("bash", ["-n"], { input: shell, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("ociImage, more", () => {
  it("evidence lowers to one trailing declareEvidence each: 19 operations for the worked example", () => {
    const spec = mb.ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source: busybox }], entrypoint: ["/bin/sh"], evidence: [smoke] });
    const program = mb.fromSpec(spec);
    expect(program.operations).toHaveLength(19);
    expect(program.operations[18]).toEqual({ _con: "declareEvidence", evidence: smoke });
    expect(counts(program.operations)).toEqual({ declareTool: 3, writeFile: 1, runTool: 8, emitDescriptor: 1, transformOutput: 4, materializeDerivation: 1, declareEvidence: 1 });
    expect(mb.deps(program).nodes).toHaveLength(11);
    expect(mb.deps(program).edges).toHaveLength(8);
  });

  it("two layers: an assemble and a tar step per layer, in layer order (20 operations)", () => {
    const spec = mb.ociImage({ name: "two", layers: [{ name: "base", source: busybox }, { name: "app", source: "/nix/store/00000000000000000000000000000000-app" }] });
    expect(spec.operations).toHaveLength(20);
    expect(mb.compile(mb.fromSpec(spec)).steps.map((s) => s.name)).toEqual(ociStepNames("base", "app"));
  });

  it("the descriptor carries the image fields", () => {
    const spec = mb.ociImage({
      name: "web",
      layers: [{ name: "root", source: busybox }],
      entrypoint: ["/bin/httpd", "-f"],
      exposedPorts: ["80/tcp"],
      labels: { "org.opencontainers.image.title": "web" },
      architecture: "arm64",
    });
    const d = spec.operations.find((o): o is mb.OpOf<"emitDescriptor"> => o._con === "emitDescriptor")!;
    expect(d.descriptor).toEqual({
      _con: "MetaBuilderDescriptor",
      name: "web-oci-image",
      payload: { kind: "oci-image", entrypoint: ["/bin/httpd", "-f"], exposedPorts: ["80/tcp"], labels: { "org.opencontainers.image.title": "web" }, architecture: "arm64", os: "linux" },
    });
  });

  it("rejects malformed arguments at once, naming the field", () => {
    expect(() => mb.ociImage({ name: "x", layers: [] })).toThrow("ociImage does not match its schema (1 problem):\n  - layers: Too small");
    expect(() => mb.ociImage({ name: "", layers: [{ name: "l", source: busybox }] })).toThrow("  - name: Too small");
    expect(() => mb.ociImage({ name: "x", layers: [{ name: "../evil", source: busybox }] })).toThrow(
      "  - layers[0].name: layer names use only letters, digits, '.', '_' and '-', and start with a letter or digit",
    );
  });
});
