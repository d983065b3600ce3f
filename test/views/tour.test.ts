// The tour page renderer (src/views/tour/): the seed page's sections in the seed's order for the oci-image program,
// markdown and HTML of one page, and every spec string escaped in the HTML (names, evidence, descriptors, sources).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const SEED = readFileSync(join(ROOT, "test/fixtures/seed/oci-image-example.txt"), "utf8").split("\n").map((l) => l.trim());

const smoke = mb.evidence({ name: "smoke-test", payload: { command: "/bin/sh -c 'echo oci-smoke-ok'", expectedOutput: "oci-smoke-ok" } });
const image = mb.ociImage({ name: "busybox-shell", layers: [{ name: "busybox", source: mb.hostPackage("busybox-static") }], entrypoint: ["/bin/sh"], evidence: [smoke] });
const ociProgram = mb.fromSpec(image);

const SVG = '<?xml version="1.0"?>\n<!-- graphviz -->\n<svg width="80pt" height="40pt" viewBox="0 0 80 40" xmlns="http://www.w3.org/2000/svg"><g id="node1" class="node"><title>tool:bash</title><text x="1" y="2">tool:bash</text></g></svg>\n';

const facts = (over: Partial<mb.TourFacts> = {}): mb.TourFacts => ({
  title: "oci image example",
  builderArg: "examples/oci-image",
  sources: [{ path: "examples/oci-image/builder.ts", text: "export default ociImage({ name: \"busybox-shell\" });\n" }],
  specJson: JSON.stringify({ name: "busybox-shell" }, null, 2),
  ornament: "oci-image",
  svg: SVG,
  result: { storePath: "/store/00000000000000000000000000000000-busybox-shell-oci-image", built: false, listing: [], more: 0 },
  ...over,
});

/** The seed page's headings (after its title) in the fixture's order: the lines that are exactly these, in order. */
function seedOrder(headings: readonly string[]): string[] {
  const found = headings.map((h) => ({ h, at: SEED.indexOf(h) }));
  for (const f of found) expect(f.at, f.h).toBeGreaterThan(0);
  return [...found].sort((a, b) => a.at - b.at).map((f) => f.h);
}

describe("tourPage of the oci-image program", () => {
  const page = mb.tourPage(ociProgram, facts());
  const titles = page.sections.map((s) => s.title);

  it("has the seed page's sections in the seed's order, then Evidence and Results", () => {
    const fromViews = page.sections.filter((s) => s.level === 3).map((s) => s.title);
    const seedLike = titles.filter((t) => t !== "Evidence" && t !== "Results");
    expect(seedLike).toEqual(seedOrder(seedLike));
    expect(titles.filter((_, i) => page.sections[i]!.level === 2)).toEqual([...mb.TOUR_SECTIONS]);
    expect(titles.slice(0, 5)).toEqual(["Start from the artifact", "Source files", "Builder vocabulary", "Program walkthrough", "One build, many views"]);
    expect(fromViews).toEqual(["Validation", "Dependency Graph", "Dry Run - Builder", "Dry Run - Runtime", "Plan View", "Plan Shell Excerpt", "Runtime Services", "Descriptors", "Builder Self-Documentation", "Materialized Outputs", "Materialization", "Substrates"]);
    expect(titles.slice(-2)).toEqual(["Evidence", "Results"]);
  });

  it("generates its content from the program", () => {
    const md = mb.tourMarkdown(page);
    expect(md.startsWith("# oci image example\n\nThis tour builds `busybox-shell-oci-image` (builder `runCommand`) from `examples/oci-image/builder.ts`.")).toBe(true);
    expect(md).toContain("- `oci-archive` at `image.oci.tar` (tar)");
    expect(md).toContain("The spec lowers to 19 operation(s) over the fixed alphabet (19 build-time, 0 runtime), in this order:");
    expect(md).toContain("1. `declareTool` `bash`: declare tool 'bash'");
    expect(md).toContain("- `smoke-test`: runs `/bin/sh -c 'echo oci-smoke-ok'`; expects `oci-smoke-ok`");
    expect(md).toContain("Not built in this store yet: `mb build examples/oci-image` makes `/store/00000000000000000000000000000000-busybox-shell-oci-image`");
    // The introspect view's own markdown is on the page, section for section.
    const introspect = mb.introspect(ociProgram).markdown;
    expect(md).toContain(introspect.slice(introspect.indexOf("### Dry Run - Builder"), introspect.indexOf("### Plan View")));
  });

  it("HTML: one self-contained document, the graph inline in Dependency Graph, nothing fetched, no script", () => {
    const html = mb.tourHtml(page);
    expect(html.startsWith("<!doctype html>\n<html lang=\"en\">")).toBe(true);
    expect(html).toContain("<style>");
    expect(html).not.toMatch(/<script|<link|<img|src=|href="(?!#)/);
    expect(html.match(/<svg /g)).toHaveLength(1);
    expect(html).not.toContain("<?xml");
    const graph = html.indexOf('<figure class="graph"><svg ');
    expect(graph).toBeGreaterThan(html.indexOf('<h3 id="dependency-graph">'));
    expect(graph).toBeLessThan(html.indexOf('<h3 id="dry-run-builder">'));
    // Every section is reachable from the contents.
    for (const s of page.sections) expect(html).toContain(`<a href="#${s.id}">`);
  });

  it("a built result lists its entry; a result whose path is unknown says so", () => {
    const built = mb.tourMarkdown(mb.tourPage(ociProgram, facts({ result: { storePath: "/s/x", built: true, listing: ["index.json (10 bytes)", "blobs/"], more: 3 } })));
    expect(built.slice(built.indexOf("## Results"))).toBe("## Results\n\nBuilt: the entry `/s/x` holds:\n\n- `index.json (10 bytes)`\n- `blobs/`\n\n… and 3 more.\n");
    const unknown = mb.tourMarkdown(mb.tourPage(ociProgram, facts({ result: { storePath: null, built: false, listing: [], more: 0 } })));
    expect(unknown).toContain("Not built: the store path is not known yet");
  });
});

describe("hostile strings", () => {
  const evil = '<script>alert("x")</script>';
  const t = mb.tool({ name: `sh${evil}`, package: mb.hostPackage("dash") });
  const program = mb.sequence([
    mb.declareTool({ tool: t }),
    mb.runTool({ name: `run</code><img src=x onerror=alert(1)>`, tool: t, args: ["-c", "echo '</pre><iframe>'"] }),
    mb.emitDescriptor({ descriptor: mb.descriptor({ name: "<b onclick=x>", payload: { "<k>": "&" } }) }),
    mb.declareEvidence({ evidence: mb.evidence({ name: "e'\"<>", payload: { command: "echo </li><script>", expectedOutput: "&amp;" } }) }),
    mb.materializeDerivation({ name: "hostile" }),
  ]);
  const html = mb.tourHtml(
    mb.tourPage(program, facts({ title: `t${evil}`, builderArg: `a${evil}`, sources: [{ path: `p${evil}.ts`, text: `x ${evil} </code></pre>` }], specJson: JSON.stringify({ name: evil }), ornament: null, result: { storePath: `/s/${evil}`, built: true, listing: [`f${evil}`], more: 0 } })),
  );

  it("no spec string becomes markup", () => {
    expect(html).not.toMatch(/<(script|img|iframe|b)[\s>]/i);
    expect(html).not.toMatch(/<[a-z]+ [^>]*onclick/i);
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("<title>t&lt;script&gt;");
    expect(html).toContain("&lt;b onclick=x&gt;");
  });

  it("inlineHtml pairs backticks into code and escapes both parts; an unpaired one stays text", () => {
    expect(mb.inlineHtml("a `<b>` & `c")).toBe("a <code>&lt;b&gt;</code> &amp; `c");
    expect(mb.escapeHtml(`<>&"'`)).toBe("&lt;&gt;&amp;&quot;&#39;");
  });

  it("inlineSvg keeps drawing and refuses script, event handlers and links out", () => {
    expect(mb.inlineSvg(SVG)).toBe('<svg width="80pt" height="40pt" viewBox="0 0 80 40" xmlns="http://www.w3.org/2000/svg"><g id="node1" class="node"><title>tool:bash</title><text x="1" y="2">tool:bash</text></g></svg>');
    const wrap = (inner: string) => `<svg xmlns="http://www.w3.org/2000/svg">${inner}</svg>`;
    expect(mb.inlineSvg(wrap('<a xlink:title="x onload=y &lt;script&gt;"><text>&lt;script&gt;</text></a>'))).toContain("<a xlink:title");
    for (const bad of ["<script>x</script>", '<g onload="x"></g>', '<a xlink:href="javascript:x"></a>', '<a href="http://x"></a>', "<foreignObject></foreignObject>", "<g <script>>"]) {
      expect(() => mb.inlineSvg(wrap(bad)), bad).toThrow(/refused for inlining/);
    }
    expect(() => mb.inlineSvg("no svg here")).toThrow(/not an SVG document/);
  });
});

describe("siteIndex", () => {
  it("links every page and escapes titles", () => {
    const { markdown, html } = mb.siteIndex("examples: tour pages", [
      { dir: "oci-image", title: "oci image example", derivation: "busybox-shell-oci-image", outputs: 4, operations: 19, built: false },
      { dir: "x y", title: "<i>x</i>", derivation: "x", outputs: 0, operations: 1, built: true },
    ]);
    expect(markdown).toBe(
      "# examples: tour pages\n\n2 example(s), each a tour page generated by `mb docs`.\n\n- [oci image example](oci-image/index.md) — `busybox-shell-oci-image`: 19 operation(s), 4 output(s)\n- [<i>x</i>](x%20y/index.md) — `x`: 1 operation(s), 0 output(s), built\n",
    );
    expect(html).toContain('<a href="oci-image/index.html">oci image example</a>');
    expect(html).toContain('<a href="x%20y/index.html">&lt;i&gt;x&lt;/i&gt;</a>');
  });
});
