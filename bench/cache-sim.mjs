#!/usr/bin/env node
// A measured simulation of N machines sharing one binary cache: N stores (default 4) and one registry (Debian's
// docker-registry on loopback, started here with its own temporary directories). The machines take turns, each with
// an empty store at the same path (as every machine of a farm has the same store directory; the store directory is
// part of every store path): machine 1 builds cold and pushes the closure; machines 2..N build the same builder with
// the cache as substituter. For each builder it prints, per machine, the wall time, the steps run, the entries
// fetched and the bytes fetched; then the total against N cold builds.
// Usage: npm run build && node bench/cache-sim.mjs   (MB_SIM_MACHINES=4, MB_SIM_MIB=50: the generated tree's size)
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startBenchRegistry } from "./registry.mjs";

const REPO = new URL("..", import.meta.url).pathname;
const MB = join(REPO, "dist/cli/main.js");
const MACHINES = Number(process.env.MB_SIM_MACHINES ?? 4);
const MIB = Number(process.env.MB_SIM_MIB ?? 50);
const work = mkdtempSync(join(tmpdir(), "mb-cache-sim-"));
const env = { ...process.env };
for (const k of Object.keys(env)) if (k.startsWith("MB_")) delete env[k];
delete env.SOURCE_DATE_EPOCH;
env.XDG_CACHE_HOME = join(work, "xdg");

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

/** Runs mb; returns its wall time and its --json events. */
function mb(args) {
  spawnSync("sync");
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [MB, ...args], { cwd: REPO, env, encoding: "utf8", maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`mb ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  const events = args.includes("--json") && args[0] === "build" ? r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)) : [];
  return { s, events, stdout: r.stdout };
}

function diskUsage(dir) {
  let n = 0;
  const walk = (p) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const q = join(p, e.name);
      if (e.isDirectory()) walk(q);
      else if (e.isFile()) n += statSync(q).size;
    }
  };
  walk(dir);
  return n;
}

// A builder whose output is a generated tree of MIB MiB (1 MiB files of random bytes), copied by a copyPath step.
const tree = join(work, "input-tree");
for (let i = 0; i < MIB; i++) {
  const d = join(tree, `d${String(i % 16).padStart(2, "0")}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, `f${String(i).padStart(4, "0")}.bin`), randomBytes(1 << 20));
}
const tool = { _con: "MetaBuilderTool", name: "coreutils", package: { _con: "hostPackage", name: "coreutils" } };
const out = { _con: "MetaBuilderOutput", name: "tree", path: "tree", format: "tree" };
const treeBuilder = join(work, "tree-copy.json");
writeFileSync(
  treeBuilder,
  JSON.stringify({
    _con: "MetaBuilderSpec", name: "tree-copy", parameters: [], inputs: [], dependencies: [], tools: [tool],
    operations: [{ _con: "declareTool", tool }, { _con: "copyPath", source: { _con: "localSource", name: "tree", path: tree }, output: out }, { _con: "transformOutput", output: out }, { _con: "materializeDerivation", name: "tree-copy" }],
    outputs: [out], evidence: [],
  }),
);

const registry = await startBenchRegistry();
const results = [];
let registryBytes = 0;
try {
  mb(["key", "generate", join(work, "farm")]);
  for (const [label, builder] of [["examples/oci-image", join(REPO, "examples/oci-image")], [`tree copy (${MIB} MiB)`, treeBuilder]]) {
    const url = `docker://${registry.host}/sim-${label.replace(/\W+/g, "-").replace(/^-|-$/g, "").toLowerCase()}`;
    const store = join(work, "store"); // every machine's store directory
    const machines = [];
    for (let m = 1; m <= MACHINES; m++) {
      const cache = m === 1 ? [] : ["--substituter", url, "--trusted-key", join(work, "farm.pub")];
      const b = mb(["build", builder, "--store", store, "--no-out-link", "--json", ...cache]);
      const row = {
        machine: m,
        buildS: b.s,
        steps: b.events.filter((e) => e.event === "step-done").length,
        builds: b.events.filter((e) => e.event === "build-done").length,
        fetched: b.events.filter((e) => e.event === "substituted").length,
        fetchedBytes: b.events.filter((e) => e.event === "substituted").reduce((n, e) => n + e.bytes, 0),
        pushS: 0,
      };
      if (m === 1) row.pushS = mb(["store", "push", url, builder, "--store", store, "--key", join(work, "farm.sec")]).s;
      machines.push(row);
      renameSync(store, join(work, `machine-${m}-store`)); // the next machine starts empty
    }
    for (let m = 1; m <= MACHINES; m++) removeTree(join(work, `machine-${m}-store`));
    results.push({ label, machines });
  }
  registryBytes = diskUsage(registry.storage);
} finally {
  await registry.stop();
  removeTree(work);
}

const f = (s) => `${s.toFixed(2)} s`;
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
console.log(`cache simulation: ${MACHINES} machines (stores at one path, in turn), one docker-registry on loopback; machine 1 builds and pushes, the others fetch`);
for (const r of results) {
  console.log(`\n${r.label}`);
  console.log(["machine", "mb build", "builds", "steps run", "entries fetched", "fetched", "push"].join("  "));
  for (const m of r.machines) console.log([String(m.machine).padEnd(7), f(m.buildS).padStart(8), String(m.builds).padStart(6), String(m.steps).padStart(9), String(m.fetched).padStart(15), mib(m.fetchedBytes).padStart(9), m.machine === 1 ? f(m.pushS) : ""].join("  "));
  const cold = r.machines[0].buildS;
  const fetches = r.machines.slice(1).map((m) => m.buildS);
  const total = r.machines.reduce((n, m) => n + m.buildS + m.pushS, 0);
  console.log(`built once, fetched ${fetches.length} times: total ${f(total)} (push included) against ${f(cold * MACHINES)} for ${MACHINES} cold builds; a fetch takes ${(fetches.reduce((a, b) => a + b, 0) / fetches.length / cold).toFixed(2)}x a cold build`);
}
console.log(`\nthe registry holds ${mib(registryBytes)} for both builders' closures`);
console.log(JSON.stringify({ machines: MACHINES, mib: MIB, registryBytes, results }));
