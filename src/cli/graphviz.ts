/** Runs graphviz's `dot` to draw DOT text as SVG (`mb deps --format svg`, the tour pages of `mb docs`). */
import { spawnSync } from "node:child_process";
import { ExitCode, MbError } from "../core/errors.js";

/** Draws DOT text as an SVG document with `dot -Tsvg` (the text goes on stdin, never through a shell). */
export function dotToSvg(dot: string): string {
  const r = spawnSync("dot", ["-Tsvg"], { input: dot, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new MbError(
      "graphviz.missing",
      missing ? "graphviz's `dot` is not on PATH: it draws the dependency graph as SVG" : `cannot run graphviz's \`dot\`: ${r.error.message}`,
      { exitCode: ExitCode.problems, ...(missing ? { hint: "apt-get install graphviz" } : {}) },
    );
  }
  if (r.status !== 0) {
    const why = r.stderr.trim().split("\n").slice(-5).join("\n");
    throw new MbError("graphviz.failed", `\`dot -Tsvg\` failed (exit ${r.status ?? "by signal"})${why ? `: ${why}` : ""}`, { exitCode: ExitCode.problems });
  }
  return r.stdout;
}
