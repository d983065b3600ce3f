// The DOT renderer of the deps view (src/views/dot.ts): every identifier and label one quoted DOT string, read back by
// a lexer that follows graphviz's (scan.l: in a quoted string `\"` is a quote, `\\` a pair kept as it is, `"` ends
// it) and graphviz's label escapes (`\\` a backslash, `\n` a line break, `&amp;` an ampersand).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

type Token = { kind: "q"; text: string } | { kind: "p"; text: string };

/** Graphviz's tokens for one line: quoted strings (their text as the lexer keeps it), words and punctuation. */
function lex(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === " ") i++;
    else if (c === '"') {
      let text = "";
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated string in ${line}`);
        if (line[i] === "\\" && line[i + 1] === '"') (text += '"'), (i += 2);
        else if (line[i] === "\\" && line[i + 1] === "\\") (text += "\\\\"), (i += 2);
        else if (line[i] === '"') {
          i++;
          break;
        } else text += line[i++];
      }
      out.push({ kind: "q", text });
    } else if (line.startsWith("->", i)) (out.push({ kind: "p", text: "->" }), (i += 2));
    else if (/[\[\]=,;{}]/.test(c)) (out.push({ kind: "p", text: c }), i++);
    else {
      const m = /^[A-Za-z0-9_.#]+/.exec(line.slice(i));
      if (!m) throw new Error(`unexpected '${c}' in ${line}`);
      out.push({ kind: "p", text: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/** What graphviz draws for a label string the lexer kept: `\\` -> `\`, `\n` -> a line break, `&amp;` -> `&`. */
function drawn(kept: string): string {
  let out = "";
  for (let i = 0; i < kept.length; i++) {
    if (kept[i] === "\\" && i + 1 < kept.length) {
      const n = kept[++i]!;
      out += n === "n" ? "\n" : n;
    } else out += kept[i];
  }
  return out.replaceAll("&amp;", "&");
}

const shape = (tokens: Token[]) => tokens.map((t) => (t.kind === "q" ? "Q" : t.text)).join(" ");

const HOSTILE = ['a"] ; evil [label="x', "\\N\\G\\L", "back\\", "line\nbreak\r\nx", "<b>&amp;</b>", "tab\tnul\u0000del\u007f", "}\ndigraph x {", "é 🙂"];

describe("dotId and dotLabel", () => {
  it("each is one quoted string that the lexer reads to its end", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(lex(mb.dotId(s))).toHaveLength(1);
        expect(lex(mb.dotLabel([s, s]))).toHaveLength(1);
      }),
    );
  });

  it("identifiers stay distinct: different names are never one node", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        fc.pre(a !== b);
        expect(lex(mb.dotId(a))[0]!.text).not.toBe(lex(mb.dotId(b))[0]!.text);
      }),
    );
    const texts = HOSTILE.map((s) => lex(mb.dotId(s))[0]!.text);
    expect(new Set(texts).size).toBe(HOSTILE.length);
  });

  it("a label is drawn as its own text, line by line (controls shown as \\xNN)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme" }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), { minLength: 1, maxLength: 3 }), (lines) => {
        expect(drawn((lex(mb.dotLabel(lines))[0] as { text: string }).text)).toBe(lines.join("\n"));
      }),
    );
    expect(drawn(lex(mb.dotLabel(["a\u0001b"]))[0]!.text)).toBe("a\\x01b");
    expect(mb.dotLabel(['x"] ; y', "\\N &amp;"])).toBe('"x\\"] ; y\\n\\\\N &amp;amp;"');
  });
});

describe("depsDot", () => {
  const sh = (name: string) => mb.tool({ name, package: mb.hostPackage("dash") });
  const program = (names: string[]) => {
    const t = sh(HOSTILE[0]!);
    return mb.sequence([mb.declareTool({ tool: t }), ...names.map((name) => mb.runTool({ name, tool: t, args: ["-c", "true"] }))]);
  };

  it("hostile names: the statements keep their shape, one node line per node and one edge line per edge", () => {
    const names = HOSTILE.slice(1);
    const g = mb.deps(program(names));
    const lines = mb.depsDot(g).trimEnd().split("\n");
    expect(lines.slice(0, 5)).toMatchInlineSnapshot(`
      [
        "digraph deps {",
        "  rankdir=LR;",
        "  graph [fontname="Helvetica", fontsize=10];",
        "  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];",
        "  edge [fontname="Helvetica", fontsize=9, color="#607d8b"];",
      ]
    `);
    expect(lines.at(-1)).toBe("}");
    const body = lines.slice(5, -1).map(lex);
    const nodes = body.filter((t) => !t.some((x) => x.text === "->"));
    const edges = body.filter((t) => t.some((x) => x.text === "->"));
    expect(nodes).toHaveLength(1 + names.length);
    expect(edges).toHaveLength(names.length);
    for (const n of nodes) expect(shape(n)).toBe("Q [ label = Q , fillcolor = Q , tooltip = Q ] ;");
    for (const e of edges) expect(shape(e)).toBe("Q -> Q [ label = Q ] ;");
    // Each node's label draws its id and role; each edge joins the ids its node lines declared.
    const ids = nodes.map((n) => n[0]!.text);
    expect(nodes.map((n) => drawn(n[4]!.text))).toEqual(g.nodes.map((n) => `${n.id.replace(/\r\n?/g, "\n").replace(/[\u0000-\u001f\u007f]/g, (c) => (c === "\n" ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))}\n(${n.role})`));
    for (const e of edges) {
      expect(ids).toContain(e[0]!.text);
      expect(ids).toContain(e[2]!.text);
    }
  });

  it("the oci-image-like graph: ids as they are when nothing needs escaping", () => {
    const t = sh("bash");
    const text = mb.depsDot(mb.deps(mb.sequence([mb.declareTool({ tool: t }), mb.runTool({ name: "write-index", tool: t, args: [] })])));
    expect(text.split("\n").slice(5, -2)).toEqual([
      '  "tool:bash" [label="tool:bash\\n(tool)", fillcolor="#e3f2fd", tooltip="tool:bash package dash"];',
      '  "operation:write-index" [label="operation:write-index\\n(operation)", fillcolor="#f1f8e9", tooltip="operation:write-index via bash"];',
      '  "tool:bash" -> "operation:write-index" [label="uses-tool"];',
    ]);
  });
});
