#!/usr/bin/env node
// The engine, as whole `mb build` processes, beside a plain bash script doing the same steps (the plan rendered by the
// shell backend, as `mb render shell` prints it), run in the same invocation:
//   - examples/oci-image: the busybox rootfs, then the OCI layout;
//   - a 200 MiB generated tree copied by a copyPath step.
// "Cold" is an empty store (mb also imports the input, seals and hashes the output); "warm" is the same build again,
// a cache hit for mb, while bash has no cache and repeats the work. "Fetch" is the cold build again in an empty store
// at the same path, with a binary cache that store A pushed to (a docker-registry the bench starts on loopback):
// every entry is fetched, checked and installed, no step runs. Prints medians, the ratio mb / bash, and fetch / cold.
// Usage: npm run bench:engine   (MB_BENCH_RUNS=3 runs per case, MB_BENCH_MIB=200 size of the generated tree)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { renderShell } from "../dist/index.js";
import { startBenchRegistry } from "./registry.mjs";
import { loadBuilder } from "../dist/cli/load.js";
import { resolveProgram, hostSystem } from "../dist/engine/resolve.js";

const REPO = new URL("..", import.meta.url).pathname;
const MB = join(REPO, "dist/cli/main.js");
const RUNS = Number(process.env.MB_BENCH_RUNS ?? 3);
const MIB = Number(process.env.MB_BENCH_MIB ?? 200);

const work = mkdtempSync(join(tmpdir(), "mb-bench-engine-"));
const env = { ...process.env };
delete env.MB_STORE;
delete env.SOURCE_DATE_EPOCH;

/**
 * Wall time of a whole process, in seconds; a failure stops the bench with its stderr. Dirty pages of the run before
 * are written back first (untimed), so no run pays for another's writes.
 */
function timed(cmd, args, extraEnv = {}) {
  spawnSync("sync");
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: REPO, env: { ...env, ...extraEnv }, encoding: "utf8", maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return s;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Removes a directory that may hold read-only store entries. */
function removeTree(dir) {
  const walk = (p) => {
    chmodSync(p, 0o755);
    for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) walk(join(p, e.name));
  };
  try {
    walk(dir);
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}

// Debian has no `coreutils` executable; the rendered script only checks `command -v coreutils`, so a stand-in serves.
const shim = join(work, "shim");
mkdirSync(shim);
symlinkSync("/bin/true", join(shim, "coreutils"));
const bashPath = `${shim}:${process.env.PATH}`;

/**
 * The plain bash equivalent of a builder: each build of its DAG rendered by the shell backend, dependencies first,
 * with the store paths of dependencies replaced by the directories the scripts before it wrote.
 */
async function bashScripts(builder, dir) {
  const { program } = await loadBuilder(builder);
  const res = resolveProgram(program, { storeDir: join(work, "render-store"), system: hostSystem(), sourceDateEpoch: 1, strict: true });
  const outs = new Map(res.builds.map((b, i) => [b.storePath, join(dir, `out-${i}`)]));
  return res.builds.map((b) => {
    let text = renderShell(b.plan);
    for (const [storePath, out] of outs) text = text.replaceAll(storePath, out);
    const file = join(dir, `${b.name}.sh`);
    writeFileSync(file, text);
    return { file, out: outs.get(b.storePath) };
  });
}

function runBash(scripts) {
  const tmp = join(work, "bash-tmp");
  mkdirSync(tmp, { recursive: true });
  let s = 0;
  for (const { file, out } of scripts) {
    removeTree(out);
    s += timed("bash", [file], { out, PATH: bashPath, TMPDIR: tmp, SOURCE_DATE_EPOCH: "1" });
  }
  return s;
}

/** Cold and warm medians for mb and bash on one builder. */
async function bench(label, builder) {
  const dir = join(work, label.replace(/\W+/g, "-"));
  mkdirSync(dir, { recursive: true });
  const scripts = await bashScripts(builder, dir);
  const mbCold = [];
  const mbWarm = [];
  const bashCold = [];
  const bashWarm = [];
  const mbFetch = [];
  for (let i = 0; i < RUNS; i++) {
    const store = join(dir, `store-${i}`);
    mbCold.push(timed(process.execPath, [MB, "build", builder, "--store", store, "--no-out-link"]));
    mbWarm.push(timed(process.execPath, [MB, "build", builder, "--store", store, "--no-out-link"]));
    // Push the closure (untimed), then build again in an empty store at the same path, fetching everything.
    const url = `docker://${registry.host}/bench-${label.replace(/\W+/g, "-").replace(/^-|-$/g, "").toLowerCase()}`;
    timed(process.execPath, [MB, "store", "push", url, builder, "--store", store, "--key", join(work, "bench-key.sec")]);
    renameSync(store, `${store}-a`);
    mbFetch.push(timed(process.execPath, [MB, "build", builder, "--store", store, "--no-out-link", "--substituter", url, "--trusted-key", join(work, "bench-key.pub")]));
    removeTree(`${store}-a`);
    removeTree(store);
    bashCold.push(runBash(scripts));
    bashWarm.push(runBash(scripts));
  }
  for (const { out } of scripts) removeTree(out);
  return { label, mbCold: median(mbCold), bashCold: median(bashCold), mbWarm: median(mbWarm), bashWarm: median(bashWarm), mbFetch: median(mbFetch) };
}

/** A tree of `mib` MiB of random bytes: 1 MiB files in 16 directories. */
function generateTree(root, mib) {
  for (let i = 0; i < mib; i++) {
    const d = join(root, `d${String(i % 16).padStart(2, "0")}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${String(i).padStart(4, "0")}.bin`), randomBytes(1 << 20));
  }
}

const tree = join(work, "input-tree");
generateTree(tree, MIB);
const treeBuilder = join(work, "tree-copy.json");
const tool = { _con: "MetaBuilderTool", name: "coreutils", package: { _con: "hostPackage", name: "coreutils" } };
const treeOut = { _con: "MetaBuilderOutput", name: "tree", path: "tree", format: "tree" };
writeFileSync(
  treeBuilder,
  JSON.stringify({
    _con: "MetaBuilderSpec",
    name: "tree-copy",
    parameters: [],
    inputs: [],
    dependencies: [],
    tools: [tool],
    operations: [
      { _con: "declareTool", tool },
      { _con: "copyPath", source: { _con: "localSource", name: "tree", path: tree }, output: treeOut },
      { _con: "transformOutput", output: treeOut },
      { _con: "materializeDerivation", name: "tree-copy" },
    ],
    outputs: [treeOut],
    evidence: [],
  }),
);

const registry = await startBenchRegistry();
let nodeStart;
let rows;
try {
  timed(process.execPath, [MB, "key", "generate", join(work, "bench-key")]);
  nodeStart = median(Array.from({ length: 5 }, () => timed(process.execPath, ["-e", "0"])));
  rows = [await bench("examples/oci-image", join(REPO, "examples/oci-image")), await bench(`tree copy (${MIB} MiB)`, treeBuilder)];
} finally {
  await registry.stop();
  removeTree(work);
}

const f = (s) => `${s.toFixed(3)} s`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const header = ["case", "mb cold", "bash cold", "cold ratio", "mb warm", "bash warm", "warm ratio", "mb fetch", "fetch/cold"];
const table = rows.map((r) => [r.label, f(r.mbCold), f(r.bashCold), ratio(r.mbCold, r.bashCold), f(r.mbWarm), f(r.bashWarm), ratio(r.mbWarm, r.bashWarm), f(r.mbFetch), ratio(r.mbFetch, r.mbCold)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`engine bench: whole processes, median of ${RUNS} run(s); ratio = mb / bash (below 1: mb is faster); fetch = cold build into an empty store from a binary cache (docker-registry on loopback)`);
console.log(`node startup alone (node -e 0): ${f(nodeStart)}`);
console.log(line(header));
for (const row of table) console.log(line(row));
console.log(JSON.stringify({ runs: RUNS, mib: MIB, nodeStart, rows }));
