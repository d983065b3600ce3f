/** Graphviz's SVG made fit to inline in a tour page: the one `<svg>` element, plain drawing only. */
import { ExitCode, MbError } from "../../core/errors.js";

/**
 * The SVG element of graphviz's output, for inlining: the XML declaration, doctype and comments before `<svg` are
 * dropped. Graphviz writes every label and title XML-escaped; markup that is not plain drawing is refused.
 */
export function inlineSvg(svg: string): string {
  const start = svg.indexOf("<svg");
  const end = svg.lastIndexOf("</svg>");
  if (start < 0 || end < start) throw new MbError("docs.svg", "the dependency graph drawn by dot is not an SVG document", { exitCode: ExitCode.problems });
  const body = svg.slice(start, end + "</svg>".length).replace(/<!--[\s\S]*?-->\n?/g, "");
  const bad = svgProblem(body);
  if (bad !== null) throw new MbError("docs.svg", `the dependency graph drawn by dot is refused for inlining: ${bad}`, { exitCode: ExitCode.problems });
  return body;
}

const SVG_TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/y;
const SVG_ATTR = /([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const SVG_REFUSED = new Set(["script", "foreignobject", "iframe", "object", "embed", "style", "use", "image"]);

/** Why an SVG may not be inlined (a tag that is not plain drawing, an event handler, a link out), or null. */
function svgProblem(body: string): string | null {
  for (let i = body.indexOf("<"); i >= 0; i = body.indexOf("<", i + 1)) {
    SVG_TAG.lastIndex = i;
    const m = SVG_TAG.exec(body);
    if (!m) return `unparsable markup at offset ${i}`;
    const name = m[2]!.toLowerCase();
    if (SVG_REFUSED.has(name)) return `element <${name}>`;
    for (const a of m[3]!.matchAll(SVG_ATTR)) {
      const attr = a[1]!.toLowerCase();
      const value = a[2] ?? a[3] ?? "";
      if (attr.startsWith("on")) return `event handler ${attr}`;
      if ((attr === "href" || attr === "xlink:href") && !value.startsWith("#")) return `link ${attr}`;
    }
  }
  return null;
}
