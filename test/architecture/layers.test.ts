// The layer order of src/, checked over every import (static, `export ... from`, dynamic `import()`, `import("...")`
// types; type-only imports count, they are dependencies of the design all the same):
//
//   core (0) <- program (1) <- ornaments | backends (2) <- views (3) <- engine (4) <- cli (5) <- src/*.ts (6)
//
// A file may import its own layer and any lower one. Ornaments and backends share rank 2 and may not import each
// other. src/oci/engine/** is the engine layer; any other file under src/oci/ is the ornaments layer; src/cache/ (the
// binary cache) is the engine layer. A top-level
// directory of src/ that is not classified here fails the test: a new folder must be given a layer.
// Purity: the layers up to views (rank <= 3, src/oci/ outside src/oci/engine/ included) import no file system,
// process, thread or OS module; reading the machine is the engine's job. A computed `import(x)` cannot be checked, so
// only the cli and the package root (which may import anything) use one (the cli loads builders by file URL).
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, lineCount, ROOT, sourceFiles } from "./source.js";

/** A layer: its rank, and the group that may import itself at the same rank. */
interface Layer {
  readonly name: string;
  readonly rank: number;
}

const LAYERS: Readonly<Record<string, Layer>> = {
  core: { name: "core", rank: 0 },
  program: { name: "program", rank: 1 },
  ornaments: { name: "ornaments", rank: 2 },
  backends: { name: "backends", rank: 2 },
  views: { name: "views", rank: 3 },
  engine: { name: "engine", rank: 4 },
  registry: { name: "engine", rank: 4 }, // the OCI distribution client: network I/O, engine layer
  cache: { name: "engine", rank: 4 },
  cli: { name: "cli", rank: 5 },
};
const ROOT_LAYER: Layer = { name: "package root", rank: 6 };

/** The layer of a file under src/ (`src/...`), or an error naming the unclassified directory. */
export function layerOf(file: string): Layer | { readonly unknown: string } {
  const parts = file.split("/");
  if (parts[0] !== "src") return { unknown: `${file} is outside src/` };
  if (parts.length === 2) return ROOT_LAYER;
  const top = parts[1]!;
  if (top === "oci") return parts[2] === "engine" && parts.length > 3 ? LAYERS.engine! : LAYERS.ornaments!;
  return LAYERS[top] ?? { unknown: `src/${top}/ has no layer: classify it in test/architecture/layers.test.ts` };
}

const PURE_RANK = 3;
const IMPURE_MODULES = new Set(["fs", "fs/promises", "child_process", "worker_threads", "os"].flatMap((m) => [m, `node:${m}`]));

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

/** Every import of one src/ file by another (relative specifiers, resolved), and every other specifier. */
function graph(): { edges: Edge[]; external: { from: string; specifier: string; line: number; typeOnly: boolean }[] } {
  const edges: Edge[] = [];
  const external: { from: string; specifier: string; line: number; typeOnly: boolean }[] = [];
  for (const from of sourceFiles()) {
    for (const imp of importsOf(from)) {
      if (imp.specifier.startsWith(".")) {
        const to = relative(ROOT, normalize(join(ROOT, dirname(from), imp.specifier))).replace(/\.js$/, ".ts");
        edges.push({ from, to, line: imp.line, specifier: imp.specifier, typeOnly: imp.typeOnly });
      } else external.push({ from, specifier: imp.specifier, line: imp.line, typeOnly: imp.typeOnly });
    }
  }
  return { edges, external };
}

const where = (e: { from: string; line: number; specifier: string; typeOnly: boolean }) => `${e.from}:${e.line} imports${e.typeOnly ? " (types only)" : ""} '${e.specifier}'`;

describe("src/ layers", () => {
  const files = sourceFiles();
  const { edges, external } = graph();

  it("finds the source and its imports", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.length).toBeGreaterThan(100);
  });

  it("every file is in a known layer (a new top-level directory must be classified)", () => {
    const unknown = [...new Set(files.map(layerOf).flatMap((l) => ("unknown" in l ? [l.unknown] : [])))];
    expect(unknown).toEqual([]);
  });

  it("no import runs up the layer order, and ornaments and backends do not import each other", () => {
    const violations: string[] = [];
    for (const e of edges) {
      const a = layerOf(e.from);
      const b = layerOf(e.to);
      if ("unknown" in b) {
        violations.push(`${where(e)}: ${b.unknown}`);
        continue;
      }
      if ("unknown" in a) continue; // reported by the test above
      if (b.rank > a.rank) violations.push(`${where(e)}: ${a.name} (${a.rank}) may not import ${b.name} (${b.rank})`);
      else if (b.rank === a.rank && b.name !== a.name) violations.push(`${where(e)}: ${a.name} and ${b.name} share rank ${a.rank} and may not import each other`);
    }
    expect(violations).toEqual([]);
  });

  it("computed dynamic imports (which cannot be checked) are only where any import is allowed: cli and the root", () => {
    const computed = external.filter((e) => {
      const l = layerOf(e.from);
      return e.specifier.startsWith("<computed") && ("unknown" in l || l.rank < LAYERS.cli!.rank);
    });
    expect(computed.map(where)).toEqual([]);
  });

  it(`the layers up to views (rank <= ${PURE_RANK}) import no fs, child_process, worker_threads or os`, () => {
    const impure = external.filter((e) => {
      const l = layerOf(e.from);
      return !("unknown" in l) && l.rank <= PURE_RANK && !e.typeOnly && IMPURE_MODULES.has(e.specifier);
    });
    expect(impure.map(where)).toEqual([]);
  });
});

describe("src/ file size", () => {
  it("no source file is over 300 lines", () => {
    const over = sourceFiles()
      .map((f) => ({ f, n: lineCount(f) }))
      .filter(({ n }) => n > 300)
      .map(({ f, n }) => `${f}: ${n} lines`);
    expect(over).toEqual([]);
  });
});

describe("layerOf", () => {
  it.each([
    ["src/index.ts", "package root"],
    ["src/core/hash.ts", "core"],
    ["src/oci/engine/run.ts", "engine"],
    ["src/oci/engine/sub/x.ts", "engine"],
    ["src/oci/image.ts", "ornaments"],
    ["src/oci/pure/x.ts", "ornaments"],
    ["src/backends/shell.ts", "backends"],
  ])("%s is %s", (file, name) => {
    const l = layerOf(file);
    expect("unknown" in l ? l.unknown : l.name).toBe(name);
  });

  it("an unclassified directory is unknown", () => {
    expect(layerOf("src/newthing/x.ts")).toEqual({ unknown: "src/newthing/ has no layer: classify it in test/architecture/layers.test.ts" });
  });
});
