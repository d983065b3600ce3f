// `mb render dockerfile --context DIR` without an engine: what it writes (the Dockerfile's instructions, the step files,
// the deterministic tools image), where spec strings go (never onto an instruction line), and its bad input (exit 2).
// The engines that build the context are in dockerfile-buildkit.test.ts and dockerfile-buildah.test.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { bashStep, output, spec, writeSpec } from "../engine/helpers.js";
import { parseDockerfile } from "../security/injection-helpers.js";
import { renderContext } from "./dockerfile-helpers.js";

const dirs = tempDirs("mb-dockerfile-context");
afterAll(() => dirs.removeAll());

const HOSTILE = "evil\nRUN touch /pwned $(id) `id` \"q\" 'q' \\";

/** A builder whose step name, script, env and local input hold Dockerfile and shell syntax. */
function hostileBuilder(dir: string): string {
  const inputs = join(dir, "inputs");
  mkdirSync(inputs, { recursive: true });
  const input = join(inputs, "a b $(x) 'q'.txt");
  writeFileSync(input, "payload\n");
  return writeSpec(
    dir,
    "hostile.json",
    spec({
      name: "hostile",
      tools: ["bash"],
      ops: [
        bashStep(HOSTILE, 'printf "%s" "$1" > "$out/arg"', [HOSTILE], { MB_VALUE: HOSTILE }),
        { _con: "copyPath", source: { _con: "localSource", name: "in", path: input }, output: output("copied", "copied", "path") },
      ],
    }),
  );
}

describe("mb render dockerfile --context", () => {
  it("writes a Dockerfile of fixed instructions: every spec string is in a context file, never on an instruction line", () => {
    const dir = dirs.tempDir("hostile");
    const store = dirs.tempDir("store");
    const context = renderContext(hostileBuilder(dir), store, dir);
    const text = readFileSync(join(context, "Dockerfile"), "utf8");
    const ins = parseDockerfile(text);
    expect([...new Set(ins.map((i) => i.keyword))].sort()).toEqual(["ADD", "COPY", "ENV", "FROM", "RUN", "WORKDIR"]);
    // Every RUN is exec form over the context's own scripts, with stage and step numbers only.
    for (const i of ins.filter((x) => x.keyword === "RUN")) expect(i.rest).toMatch(/^\["bash", "\/mb\/(step\.sh", "\d+", "\d+|seal\.sh", "(prepare", "\d+|seal))"\]$/);
    expect(text).not.toContain("pwned");
    // The imported input is copied at its store entry's name (hash and safe name), not under its own base name.
    const copies = ins.filter((x) => x.keyword === "COPY" && x.rest.includes("store/")).map((x) => JSON.parse(x.rest) as string[]);
    expect(copies).toHaveLength(1);
    expect(copies[0]![0]).toMatch(/^store\/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+$/);
    // The step's name is one line in its own file; the script, its argument and env are the rendered step, as the engine runs it.
    expect(readFileSync(join(context, "mb/0/steps/0.name"), "utf8")).toBe(`${HOSTILE.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}\n`);
    expect(readFileSync(join(context, "mb/0/steps/count"), "utf8")).toBe("2\n");
    const plan = JSON.parse(mb(["plan", "--json", join(dir, "hostile.json")], { store }).stdout) as { steps: { shell: string }[] };
    expect(readFileSync(join(context, "mb/0/steps/0.sh"), "utf8")).toBe(`${plan.steps[0]!.shell}\n`);
  });

  it("the tools image is deterministic: two renders write the same tools.tar, with bash and the merged-/usr links", () => {
    const store = dirs.tempDir("store");
    const dir = dirs.tempDir("twice");
    const builder = writeSpec(dir, "b.json", spec({ name: "small", tools: ["bash"], ops: [bashStep("hello", 'echo hi > "$out/hi"')] }));
    const digest = (c: string) => createHash("sha256").update(readFileSync(join(c, "tools.tar"))).digest("hex");
    const a = renderContext(builder, store, dirs.tempDir("a"));
    const b = renderContext(builder, store, dirs.tempDir("b"));
    expect(digest(b)).toBe(digest(a));
    const listing = spawnSync("tar", ["-tvf", join(a, "tools.tar")], { encoding: "utf8" }).stdout.split("\n");
    const bash = realpathSync("/bin/bash").slice(1);
    expect(listing.some((l) => l.startsWith("-rwxr-xr-x 0/0") && l.endsWith(` ${bash}`))).toBe(true);
    // Each link among the host's top directories (/bin -> usr/bin on merged-/usr Debian) is in the image as the same link.
    for (const top of ["bin", "lib", "lib64", "sbin"]) {
      const st = lstatSync(`/${top}`, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) expect(listing).toContainEqual(expect.stringMatching(new RegExp(`^l.* ${top} -> ${readlinkSync(`/${top}`)}$`)));
    }
    expect(listing).toContainEqual(expect.stringMatching(/^drwxrwxrwt 0\/0 .* tmp\/$/));
  });

  it("--json reports the context, the stages and the tools image's packages", () => {
    const store = dirs.tempDir("store");
    const dir = dirs.tempDir("json");
    const builder = writeSpec(dir, "b.json", spec({ name: "small", tools: ["bash"], ops: [bashStep("hello", 'echo hi > "$out/hi"')] }));
    const r = mb(["render", "dockerfile", "--json", "--context", join(dir, "ctx"), builder], { store });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { backend: string; context: string; dockerfile: string; storePath: string; stages: { name: string }[]; tools: { packages: { name: string }[] } };
    expect(j.backend).toBe("dockerfile");
    expect(j.dockerfile).toBe(join(dir, "ctx", "Dockerfile"));
    expect(j.stages.map((s) => s.name)).toEqual(["small"]);
    expect(j.tools.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["bash", "coreutils", "findutils", "libc6"]));
    expect(j.storePath.startsWith(`${store}/`)).toBe(true);
  });

  it("bad input: --context for another backend, an empty --context, a directory that holds something else (exit 2)", () => {
    const dir = dirs.tempDir("bad");
    const builder = writeSpec(dir, "b.json", spec({ name: "small", tools: ["bash"], ops: [bashStep("hello", 'echo hi > "$out/hi"')] }));
    expect(mb(["render", "shell", "--context", join(dir, "c"), builder])).toEqual({ status: 2, stdout: "", stderr: "mb: error: --context applies to render dockerfile only\nmb: hint: run `mb render --help` for usage\n" });
    expect(mb(["render", "dockerfile", "--context", "", builder]).stderr).toBe("mb: error: --context needs a directory\n");
    const busy = join(dir, "busy");
    mkdirSync(busy);
    writeFileSync(join(busy, "keep.txt"), "mine\n");
    const r = mb(["render", "dockerfile", "--context", busy, builder]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`mb: error: --context ${busy}: the directory is not empty and holds no earlier rendered context (.mb-context)\nmb: hint: give an empty or new directory\n`);
    expect(readFileSync(join(busy, "keep.txt"), "utf8")).toBe("mine\n");
  });

  it("a tool no Debian package installed cannot enter the tools image: exit 1 naming it, and no context is written", () => {
    const dir = dirs.tempDir("unowned");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "mytool"), "#!/bin/sh\necho mine\n", { mode: 0o755 });
    const builder = writeSpec(dir, "b.json", spec({ name: "unowned", tools: ["bash", "mytool"], ops: [bashStep("hello", 'mytool > "$out/hi"')] }));
    const r = mb(["render", "dockerfile", "--context", join(dir, "ctx"), builder], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `mb: error: tool 'mytool' (${join(bin, "mytool")}, package 'mytool') belongs to no installed Debian package: the tools image holds Debian packages only\n` +
        'mb: hint: declare the tool by its Debian package (hostPackage("<package>"))\n',
    );
    expect(existsSync(join(dir, "ctx"))).toBe(false);
  });

  it("a rendered context is replaced by the next render (nothing stale stays)", () => {
    const store = dirs.tempDir("store");
    const dir = dirs.tempDir("again");
    const builder = writeSpec(dir, "b.json", spec({ name: "small", tools: ["bash"], ops: [bashStep("hello", 'echo hi > "$out/hi"')] }));
    const context = renderContext(builder, store, dir);
    writeFileSync(join(context, "stale"), "x");
    expect(renderContext(builder, store, dir)).toBe(context);
    expect(existsSync(join(context, "stale"))).toBe(false);
    expect(existsSync(join(context, "Dockerfile"))).toBe(true);
  });
});
