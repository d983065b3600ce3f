#!/usr/bin/env node
// OCI image builds, whole `mb build` processes, beside what users would otherwise run on the same busybox rootfs
// (the rootfs package of examples/oci-image, copied for each baseline): `podman build` (FROM scratch, COPY, ENTRYPOINT)
// + `podman save`, umoci, and the floor script (../shared/bench). The headline: `mb build examples/oci-image` into a
// fresh store (the rootfs package and the image), and the same command as a cache hit; then busybox-shell cold with
// its rootfs in the store, and a generated rootfs of about 500 MiB (half random, half text) cold, uncompressed and
// zstd. "Cold" means the image is not in the store; its rootfs is (as the baselines are handed it): each run gets a
// new SOURCE_DATE_EPOCH, hence a new store path. Prints medians and ratios (mb / other).
// Usage: npm run bench:oci   (MB_BENCH_MIB=500 size of the generated rootfs, 0 to leave that part out;
// MB_BENCH_RUNS=3 runs per case, at least 5 for the busybox cases)
import { execFileSync, spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ociImage } from "../dist/index.js";

const REPO = new URL("..", import.meta.url).pathname;
const SHARED = join(REPO, "..", "shared", "bench");
const MB = join(REPO, "dist/cli/main.js");
const MIB = Number(process.env.MB_BENCH_MIB ?? 500);
const RUNS = Number(process.env.MB_BENCH_RUNS ?? 3);

for (const tool of ["umoci", "openssl", "zstd", "podman"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`bench:oci needs ${tool}: apt-get install ${tool}`);
}
for (const script of ["umoci-image.sh", "floor-image.sh"]) {
  if (!existsSync(join(SHARED, script))) throw new Error(`bench:oci needs ${join(SHARED, script)} (the shared directory beside the repository)`);
}

// Node 20 reads the whole NODE_EXTRA_CA_CERTS bundle at every start, before any of mb runs; mb makes no TLS
// connections, so its processes run without it here, and the bench says what that saves.
const caCerts = process.env.NODE_EXTRA_CA_CERTS;
if (caCerts !== undefined) delete process.env.NODE_EXTRA_CA_CERTS;

const work = mkdtempSync(join(tmpdir(), "mb-bench-oci-"));
const store = join(work, "store");
let epoch = 1000;

/** Wall time of a whole process, in seconds; a failure stops the bench with its stderr. */
function timed(cmd, args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return { s, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The baselines get their own copy of a rootfs: `umoci insert` changes the ctime of the directories it reads, which
 * would make every mb run after it take the identity of its input afresh (a full hash of it) instead of by stamps.
 */
function baselineCopy(dir) {
  const copy = join(work, `baseline-${dir.split("/").pop()}`);
  execFileSync("cp", ["-a", dir, copy]);
  return copy;
}

/** Removes a store entry (read-only) and its metadata, so that the disk does not fill up between runs. */
function dropEntry(path) {
  const walk = (p) => {
    chmodSync(p, 0o755);
    for (const e of readdirSync(p, { withFileTypes: true })) if (e.isDirectory()) walk(join(p, e.name));
  };
  if (statSync(path).isDirectory()) walk(path);
  rmSync(path, { recursive: true, force: true });
  rmSync(join(store, ".meta", `${path.split("/").pop()}.json`), { force: true });
}

/** Where one cold build's time went, from its entry's metadata: the process around the build, steps, sealing. */
const parts = new Map();

/** One cold `mb build` of a spec file: a fresh SOURCE_DATE_EPOCH, so the image is never in the store. */
function mbColdOnce(file, name) {
  const { s, stdout } = timed(process.execPath, [MB, "build", file, "--no-out-link", "--store", store], { SOURCE_DATE_EPOCH: String(epoch++) });
  const entry = stdout.trim().split("\n").pop();
  const meta = JSON.parse(readFileSync(join(store, ".meta", `${entry.split("/").pop()}.json`), "utf8"));
  const steps = meta.steps.reduce((n, x) => n + x.durationMs, 0) / 1000;
  const seal = (meta.sealMs ?? 0) / 1000;
  const built = meta.durationMs / 1000;
  if (!parts.has(name)) parts.set(name, []);
  parts.get(name).push({ outside: s - built, steps, seal, rest: built - steps - seal });
  dropEntry(entry);
  return s;
}

/** "= a before and after the build + b steps + c sealing + d rest" from the median of each part over a case's runs. */
function breakdown(name) {
  const runs = parts.get(name) ?? [];
  if (runs.length === 0) return "";
  const m = (k) => median(runs.map((r) => r[k])).toFixed(3);
  return `${"".padEnd(46)}= ${m("outside")} s process (start, load, resolve, install) + ${m("steps")} s steps + ${m("seal")} s sealing + ${m("rest")} s rest`;
}

/**
 * Before each timed case: `sync`, so that no case pays for the writeback of what the case before it wrote (podman's
 * storage, a removed store) and every case starts from the same clean page cache, as `hyperfine --prepare sync` does.
 * No case syncs what it writes itself.
 */
function settle() {
  execFileSync("sync");
}

/**
 * Each case's median over `runs` rounds; every round runs every case once, in turn (each round from the next case on), so that a machine whose load
 * changes during the bench weighs on all of them alike. A case is a spec (a cold mb build) or a baseline script.
 */
function rounds(cases, runs) {
  const prepared = Object.entries(cases).map(([name, c]) => {
    if (typeof c === "function") return { name, run: c };
    if (typeof c === "string") return { name, run: () => timed("bash", [join(SHARED, c.split(" ")[0]), c.split(" ")[1]]).s };
    const file = join(work, `${name.replace(/[^A-Za-z0-9]+/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(c));
    return { name, run: () => mbColdOnce(file, name) };
  });
  const times = Object.fromEntries(prepared.map((c) => [c.name, []]));
  for (let i = 0; i < runs; i++) {
    // Each round starts one case later: no case always follows the same one (podman's removals, say, whose disk
    // work outlasts `sync`, would otherwise always weigh on the case after podman).
    for (let j = 0; j < prepared.length; j++) {
      const c = prepared[(i + j) % prepared.length];
      settle();
      times[c.name].push(c.run());
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/**
 * What a user would otherwise run: `podman build` (FROM scratch, COPY the rootfs, ENTRYPOINT; --no-cache, so every
 * run builds) and `podman save` of the image as an OCI archive, whole processes, with podman's own storage in the
 * bench's directory (vfs: nothing of the host's containers is touched). Returns a case for `rounds`.
 */
function podmanCase(rootfs) {
  const ctx = join(work, "podman-context");
  mkdirSync(ctx, { recursive: true });
  execFileSync("cp", ["-a", rootfs, join(ctx, "rootfs")]);
  writeFileSync(join(ctx, "Dockerfile"), 'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT ["/bin/sh"]\n');
  const storage = ["--root", join(work, "podman-root"), "--runroot", join(work, "podman-run"), "--storage-driver", "vfs"];
  let n = 0;
  return () => {
    const tag = `localhost/mb-bench:${n++}`;
    const archive = join(work, "podman-image.tar");
    const build = timed("podman", [...storage, "build", "--no-cache", "-q", "-t", tag, ctx]).s;
    const save = timed("podman", [...storage, "save", "--format", "oci-archive", "-o", archive, tag]).s;
    rmSync(archive, { force: true });
    timed("podman", [...storage, "rmi", "-f", tag]);
    return build + save;
  };
}

/** One `mb build examples/oci-image` into a fresh store: the busybox rootfs package and the image, whole process. */
function freshStoreOnce() {
  const fresh = mkdtempSync(join(work, "fresh-store-"));
  const { s } = timed(process.execPath, [MB, "build", "examples/oci-image", "--no-out-link", "--store", fresh]);
  execFileSync("chmod", ["-R", "u+w", fresh]);
  rmSync(fresh, { recursive: true, force: true });
  return s;
}

/** About `mib` MiB: half pseudo-random files (incompressible), half text files; the same bytes on every run. */
function generateRootfs(dir, mib) {
  const total = mib * 1024 * 1024;
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  let seed = 42;
  const rnd = () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 4294967296;
  };
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua layer image blob digest manifest config rootfs".split(" ");
  let written = 0;
  for (let i = 0; written < total / 2; i++) {
    const d = join(dir, "random", String(i % 16));
    mkdirSync(d, { recursive: true });
    const size = Math.floor(64 * 1024 + rnd() * 4 * 1024 * 1024);
    writeFileSync(join(d, `r${i}.bin`), cipher.update(Buffer.alloc(size)));
    written += size;
  }
  for (let t = 0; written < total; t++) {
    const d = join(dir, "text", String(t % 64));
    mkdirSync(d, { recursive: true });
    const size = Math.floor(4 * 1024 + rnd() * 256 * 1024);
    const lines = [];
    for (let n = 0; n < size; ) {
      const line = `${Array.from({ length: 8 + Math.floor(rnd() * 8) }, () => words[Math.floor(rnd() * words.length)]).join(" ")} ${Math.floor(rnd() * 1e6)}\n`;
      lines.push(line);
      n += line.length;
    }
    const text = lines.join("");
    writeFileSync(join(d, `t${t}.txt`), text);
    written += text.length;
  }
  return written;
}

const rows = [];
const row = (c, mb, umoci, floor, caseName) => {
  rows.push({ c, mb, umoci, floor });
  const f = (x) => (x === undefined ? "-" : `${x.toFixed(3)} s`);
  const r = (x) => (x === undefined ? "-" : `${(mb / x).toFixed(2)}x`);
  console.log(`${c.padEnd(44)} ${f(mb).padStart(9)}  umoci ${f(umoci).padStart(9)} (${r(umoci)})  floor ${f(floor).padStart(9)} (${r(floor)})`);
  if (caseName) console.log(breakdown(caseName));
};

try {
  console.log(`bench:oci: ${RUNS} rounds (busybox: at least 5), each case once per round, medians; mb = whole \`mb build\` processes; ratios are mb / other`);
  const nodeStart = (env) => median(Array.from({ length: 5 }, () => timed(process.execPath, ["-e", "0"], env).s));
  if (caCerts !== undefined) {
    const with_ = nodeStart({ NODE_EXTRA_CA_CERTS: caCerts });
    console.log(`NODE_EXTRA_CA_CERTS is set: \`node -e 0\` takes ${with_.toFixed(3)} s with it, ${nodeStart({}).toFixed(3)} s without; mb runs without it (it makes no TLS connections)`);
  } else {
    console.log(`\`node -e 0\` takes ${nodeStart({}).toFixed(3)} s here`);
  }
  console.log("fast = assemble: \"direct\", verifyBlobs: \"store\" (+ digestTool: \"openssl\" where named)\n");

  // busybox-shell: the rootfs builder is realized once; the image is built cold each run.
  const rootfs = timed(process.execPath, [MB, "build", "examples/oci-image/busybox-rootfs.ts", "--no-out-link", "--store", store]).stdout.trim().split("\n").pop();
  const rootfsCopy = baselineCopy(rootfs);
  const busybox = (extra = {}) => ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source: rootfs }], entrypoint: ["/bin/sh"], ...extra });
  const bb = rounds(
    {
      mb: busybox(),
      fast: busybox({ assemble: "direct", verifyBlobs: "store" }),
      fastOpenssl: busybox({ assemble: "direct", verifyBlobs: "store", digestTool: "openssl" }),
      umoci: `umoci-image.sh ${rootfsCopy}`,
      floor: `floor-image.sh ${rootfsCopy}`,
      podman: podmanCase(rootfsCopy),
      freshStore: freshStoreOnce,
    },
    Math.max(5, RUNS),
  );
  // Cache hit: examples/oci-image, built once, then built again (the same invocation as the fresh-store case).
  timed(process.execPath, [MB, "build", "examples/oci-image", "--no-out-link", "--store", store]);
  const hit = median(Array.from({ length: Math.max(5, RUNS) }, () => (settle(), timed(process.execPath, [MB, "build", "examples/oci-image", "--no-out-link", "--store", store]).s)));

  // The headline: every way to get the busybox image, each against every other way.
  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  console.log("busybox image (medians)                        time      / podman    / umoci     / floor");
  const headline = (label, t) => console.log(`  ${label.padEnd(44)} ${t.toFixed(3).padStart(7)} s  ${ratio(t, bb.podman).padStart(8)}  ${ratio(t, bb.umoci).padStart(8)}  ${ratio(t, bb.floor).padStart(8)}`);
  headline("mb build, fresh store (rootfs + image)", bb.freshStore);
  headline("mb build, cache hit", hit);
  headline("mb build, rootfs in the store (seed scripts)", bb.mb);
  headline("podman build + podman save", bb.podman);
  headline("umoci (gzip layer) + tar", bb.umoci);
  headline("floor script (tar | tee | openssl) + tar", bb.floor);
  console.log(`  (mb: \`node ${MB.slice(REPO.length)} build ...\`, whole processes; podman: its own vfs storage, --no-cache)\n`);
  row("busybox-shell cold (seed scripts)", bb.mb, bb.umoci, bb.floor, "mb");
  row("busybox-shell cold, fast", bb.fast, bb.umoci, bb.floor, "fast");
  row("busybox-shell cold, fast + openssl", bb.fastOpenssl, bb.umoci, bb.floor, "fastOpenssl");
  row("busybox-shell cache hit", hit);

  // The large rootfs: generated once, imported into the store by a first (unmeasured) build.
  const lg = MIB > 0 ? largeRootfs() : null;

  const get = (name) => rows.find((r) => r.c === name);
  const verdict = (ok) => (ok ? "met" : "NOT met");
  console.log("\ntargets:");
  console.log(`  busybox image from a fresh store no slower than podman build + save: ${bb.freshStore.toFixed(3)} s vs ${bb.podman.toFixed(3)} s: ${verdict(bb.freshStore <= bb.podman)}`);
  console.log(`  ... and half its time (the goal): ${verdict(bb.freshStore <= bb.podman / 2)}`);
  console.log(`  cache hit under 0.1 s: ${hit.toFixed(3)} s: ${verdict(hit < 0.1)}`);
  for (const c of ["busybox-shell cold (seed scripts)", "busybox-shell cold, fast", "busybox-shell cold, fast + openssl"]) {
    const r = get(c);
    console.log(`  ${c} not slower than umoci: ${r.mb.toFixed(3)} s vs ${r.umoci.toFixed(3)} s: ${verdict(r.mb <= r.umoci)}`);
  }
  if (lg !== null) {
    for (const c of [`${MIB} MiB cold, uncompressed (seed scripts)`, `${MIB} MiB cold, uncompressed, fast + openssl`]) {
      const r = get(c);
      console.log(`  ${c} within 1.2x of the floor: ${(r.mb / r.floor).toFixed(2)}x: ${verdict(r.mb <= 1.2 * r.floor)}`);
    }
    for (const c of [`${MIB} MiB cold, zstd (seed scripts)`, `${MIB} MiB cold, zstd, fast + openssl`]) {
      const r = get(c);
      console.log(`  ${c} faster than umoci: ${r.mb.toFixed(3)} s vs ${r.umoci.toFixed(3)} s: ${verdict(r.mb < r.umoci)}`);
    }
  }
} finally {
  execFileSync("chmod", ["-R", "u+w", work]);
  rmSync(work, { recursive: true, force: true });
}

/** The generated rootfs of `MIB` MiB: mb cold (seed scripts, fast, zstd) beside umoci and the floor; prints its rows. */
function largeRootfs() {
  const big = join(work, "rootfs");
  const t0 = performance.now();
  const bytes = generateRootfs(big, MIB);
  const bigCopy = baselineCopy(big);
  console.log(`\ngenerated ${(bytes / 1048576).toFixed(0)} MiB rootfs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const large = (extra) => ociImage({ name: "large", layers: [{ name: "root", source: big }], entrypoint: ["/bin/sh"], ...extra });
  rounds({ warm: large({}) }, 1);
  const fast = { assemble: "direct", digestTool: "openssl", verifyBlobs: "store" };
  const lg = rounds(
    {
      plain: large({}),
      plainFast: large(fast),
      zstd: large({ compression: "zstd" }),
      zstdFast: large({ compression: "zstd", ...fast }),
      umoci: `umoci-image.sh ${bigCopy}`,
      floor: `floor-image.sh ${bigCopy}`,
    },
    RUNS,
  );
  row(`${MIB} MiB cold, uncompressed (seed scripts)`, lg.plain, lg.umoci, lg.floor, "plain");
  row(`${MIB} MiB cold, uncompressed, fast + openssl`, lg.plainFast, lg.umoci, lg.floor, "plainFast");
  row(`${MIB} MiB cold, zstd (seed scripts)`, lg.zstd, lg.umoci, lg.floor, "zstd");
  row(`${MIB} MiB cold, zstd, fast + openssl`, lg.zstdFast, lg.umoci, lg.floor, "zstdFast");
  return lg;
}
