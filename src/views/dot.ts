/**
 * The dependency graph in Graphviz DOT, quoted for hostile names: every identifier and label is a double-quoted DOT
 * string, so no spec string can close it, add attributes or statements, start an HTML label or a `\G`-style
 * substitution; `&` is written `&amp;`, since graphviz reads `&name;` in a string as an HTML entity. `mb deps --format dot|svg` and the tour pages (`mb docs`) draw the graph from this text.
 */
import type { DepNode, DepsResult } from "./deps.js";

/** Control characters other than line breaks, written as visible `\xNN` text. */
const hex2 = (c: string) => c.charCodeAt(0).toString(16).padStart(2, "0");

/**
 * A DOT identifier: a double-quoted string. The DOT lexer treats `\"` as a quote and keeps every other character,
 * `\\` pairs included, so escaping `\` and `"` (and writing line breaks and controls as escapes) is injective and
 * nothing ends the string early (`&` becomes `&amp;`, which graphviz shows as `&`).
 */
export function dotId(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "&") out += "&amp;";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (/[\u0000-\u001f\u007f]/.test(ch)) out += `\\x${hex2(ch)}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * A DOT label (an escString) drawn as the text itself: `\` doubled (so `\N`, `\G`, `\l` stay literal), `"` escaped,
 * `&` as `&amp;`, each line ending `\n` (centred), controls shown as `\xNN` text. Lines are the label's own line breaks.
 */
export function dotLabel(lines: readonly string[]): string {
  const one = (s: string) =>
    [...s.replace(/\r\n?/g, "\n")]
      .map((ch) =>
        ch === "\\" ? "\\\\" : ch === '"' ? '\\"' : ch === "&" ? "&amp;" : ch === "\n" ? "\\n" : /[\u0000-\u001f\u007f]/.test(ch) ? `\\\\x${hex2(ch)}` : ch,
      )
      .join("");
  return `"${lines.map(one).join("\\n")}"`;
}

const FILL: Record<string, string> = {
  tool: "#e3f2fd",
  operation: "#f1f8e9",
  service: "#fff3e0",
};

function nodeAttrs(n: DepNode): string {
  const fill = FILL[n.role] ?? "#f3e5f5";
  const tooltip = [n.id, n.packageName !== undefined ? `package ${n.packageName}` : "", n.tool !== undefined ? `via ${n.tool}` : ""].filter((x) => x !== "");
  return `label=${dotLabel([n.id, `(${n.role})`])}, fillcolor=${dotId(fill)}, tooltip=${dotLabel([tooltip.join(" ")])}`;
}

/** Draws the deps view as a DOT digraph: one node per graph node (filled by role), one labelled edge per edge. */
export function depsDot(g: DepsResult): string {
  const lines = [
    "digraph deps {",
    "  rankdir=LR;",
    '  graph [fontname="Helvetica", fontsize=10];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9, color="#607d8b"];',
  ];
  for (const n of g.nodes) lines.push(`  ${dotId(n.id)} [${nodeAttrs(n)}];`);
  for (const e of g.edges) lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)} [label=${dotLabel([e.kind])}];`);
  lines.push("}");
  return lines.join("\n") + "\n";
}
