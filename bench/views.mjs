#!/usr/bin/env node
// Per-view times for generated programs of 1k, 10k and 100k operations, beside a floor (JSON.stringify of the
// same program: touching every operation once), plus `mb introspect examples/oci-image` as a whole process.
// Usage: npm run bench:views
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import * as mb from "../dist/index.js";

const sizes = [1_000, 10_000, 100_000];

/** A program of about n operations using every constructor. */
function generate(n) {
  const bash = mb.tool({ name: "bash", package: mb.hostPackage("bash") });
  const svcCat = mb.capabilityCategory({ name: "lifecycle", capabilities: [mb.capability({ name: "start" })] });
  const proto = mb.protocol({ name: "rpc", transport: "TCP", serialization: "JSON", capabilities: mb.capabilitySet({ categories: [svcCat] }) });
  const ops = [mb.declareTool({ tool: bash }), mb.declareCapability({ category: svcCat }), mb.declareProtocol({ protocol: proto })];
  for (let i = 0; ops.length < n; i++) {
    const out = mb.output({ name: `o${i}`, path: `out/${i}.txt`, format: "text" });
    ops.push(
      mb.readSource({ name: `src${i}`, source: mb.localSource({ name: `src${i}`, path: `/tmp/inputs/${i}.txt` }) }),
      mb.runTool({ name: `step-${i}`, tool: bash, args: ["-c", `echo ${i} > "$out/${i}"`, `step-${i}`], env: { N: String(i) } }),
      mb.writeFile({ output: out, text: `hello ${i}\n` }),
      mb.transformOutput({ output: out }),
      mb.validateValue({ validation: mb.validation({ name: `v${i}`, value: i }) }),
      mb.emitDescriptor({ descriptor: mb.descriptor({ name: `d${i}`, payload: { i } }) }),
      mb.declareEvidence({ evidence: mb.evidence({ name: `e${i}` }) }),
      mb.resolveDependency({ dependency: mb.dependency({ name: `dep${i % 50}`, package: "/nix/store/x-dep" }) }),
      mb.copyPath({ source: mb.localSource({ name: `c${i}`, path: `/tmp/inputs/c${i}` }), output: mb.output({ name: `c${i}`, path: `c/${i}` }) }),
      mb.declareService({ service: mb.service({ name: `svc${i}`, package: "/nix/store/x-svc", capabilities: mb.capabilitySet({ categories: [svcCat] }), protocols: [proto] }) }),
      mb.materializeUnit({ name: `svc${i}` }),
    );
  }
  ops.push(mb.materializeDerivation({ name: "bench" }));
  return mb.unsafeProgram(ops.slice(0, n));
}

const views = {
  validate: (p) => mb.validate(p),
  deps: (p) => mb.deps(p),
  "dry-run": (p) => mb.dryRun(p),
  materialize: (p) => mb.materialize(p),
  "plan-view": (p) => mb.planView(p),
  describe: (p) => mb.describe(p),
  "plan-export": (p) => mb.planExport(p),
  introspect: (p) => mb.introspect(p),
  "render shell": (p) => mb.renderShell(mb.materialize(p)),
};

function time(fn, reps) {
  fn(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

const rows = [];
const results = {};
for (const n of sizes) {
  const program = generate(n);
  const reps = n >= 100_000 ? 3 : n >= 10_000 ? 5 : 20;
  const floor = time(() => JSON.stringify(program), reps);
  results[n] = { floor };
  for (const [name, fn] of Object.entries(views)) {
    const ms = time(() => fn(program), reps);
    results[n][name] = ms;
  }
}
const pad = (s, w) => String(s).padStart(w);
console.log(`per-view time in ms (in-process; floor = JSON.stringify of the program)`);
console.log(`${"view".padEnd(14)}${sizes.map((n) => pad(`${n / 1000}k ops`, 12)).join("")}${pad("x floor@100k", 14)}${pad("100k/10k", 10)}`);
for (const name of ["floor", ...Object.keys(views)]) {
  const cells = sizes.map((n) => pad(results[n][name].toFixed(2), 12)).join("");
  const ratio = (results[100_000][name] / results[100_000].floor).toFixed(2);
  const growth = (results[100_000][name] / results[10_000][name]).toFixed(1);
  console.log(`${name.padEnd(14)}${cells}${pad(ratio, 14)}${pad(growth, 10)}`);
}
const intro100k = results[100_000].introspect;
console.log(`\nintrospect of 100k operations: ${intro100k.toFixed(0)} ms (target < 2000 ms): ${intro100k < 2000 ? "met" : "MISSED"}`);

// Whole process: node alone (the floor of any CLI) and `mb introspect examples/oci-image`.
const root = new URL("..", import.meta.url).pathname;
function wall(args, reps = 5) {
  const samples = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "ignore"] });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}
const nodeAlone = wall(["-e", "0"]);
const cli = wall(["dist/cli/main.js", "introspect", "examples/oci-image"]);
console.log(`node -e 0 (process floor): ${nodeAlone.toFixed(0)} ms`);
console.log(`mb introspect examples/oci-image: ${cli.toFixed(0)} ms (median of 5; ${(cli / nodeAlone).toFixed(1)}x node alone; target < 500 ms): ${cli < 500 ? "met" : "MISSED"}`);
