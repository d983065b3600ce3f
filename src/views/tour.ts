/**
 * Tour pages (`mb docs`): a builder's page like the seed page "OCI image example", generated from its program and the
 * facts the CLI gathered (the builder's files, the spec's JSON, the graph drawn by graphviz, the store entry if built).
 * A page is data (sections of blocks), rendered as markdown and as self-contained HTML; pure: no disk, no processes.
 * Every string that comes from a spec is HTML-escaped in the HTML.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { type CompileOptions, compile } from "../program/compile.js";
import type { Program } from "../program/fold.js";
import { describe } from "./describe.js";
import { type IntrospectResult, introspect } from "./introspect.js";

/** A block of a tour section. Inline text marks code spans with backticks, as the views' markdown does. */
export type TourBlock =
  | { readonly kind: "p"; readonly text: string }
  | { readonly kind: "list"; readonly items: readonly string[]; readonly ordered?: boolean }
  | { readonly kind: "code"; readonly lang: string; readonly text: string; readonly caption?: string }
  | { readonly kind: "svg"; readonly svg: string; readonly caption: string };

/** A section of a tour page: a heading (level 2, or 3 under "One build, many views") and its blocks. */
export interface TourSection {
  readonly id: string;
  readonly level: 2 | 3;
  readonly title: string;
  readonly blocks: readonly TourBlock[];
}

/** A tour page: its title, lead paragraphs and sections in the seed page's order. */
export interface TourPage {
  readonly title: string;
  readonly lead: readonly TourBlock[];
  readonly sections: readonly TourSection[];
}

/** A file shown under "Source files" (the builder module first). */
export interface TourSource {
  readonly path: string;
  readonly text: string;
}

/** The built result, when the builder's store entry exists. */
export interface TourResult {
  /** The store path the build has (null: some package or input is missing, so it is not known). */
  readonly storePath: string | null;
  /** Whether the entry exists in the store. */
  readonly built: boolean;
  /** One line per file of the entry (`path (N bytes)`, `dir/`, `link -> target`), when built. */
  readonly listing: readonly string[];
  /** Entries left out of the listing (it is capped). */
  readonly more: number;
}

/** What the CLI gathered for a page: nothing here is read by the pure layer itself. */
export interface TourFacts {
  /** The page title, e.g. `oci image example`. */
  readonly title: string;
  /** How the commands on the page name the builder (`examples/oci-image`). */
  readonly builderArg: string;
  /** The builder module and the files beside it, as text. */
  readonly sources: readonly TourSource[];
  /** The exported spec as JSON text (null: the builder exports a program). */
  readonly specJson: string | null;
  /** The ornament whose fields the spec carries, if any. */
  readonly ornament: string | null;
  /** The dependency graph drawn by `dot -Tsvg` (the SVG element), or null. */
  readonly svg: string | null;
  readonly result: TourResult;
}

/** The headings of a tour page in order, as the seed page has them (then Evidence and Results). */
export const TOUR_SECTIONS = ["Start from the artifact", "Source files", "Builder vocabulary", "Program walkthrough", "One build, many views", "Evidence", "Results"] as const;

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "section";
const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

function langOf(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? "";
  const known: Record<string, string> = { ts: "ts", mts: "ts", js: "js", mjs: "js", json: "json", sh: "sh", nix: "nix", c: "c", h: "c", cc: "cpp", cpp: "cpp", proto: "proto", py: "python", md: "markdown" };
  return known[ext] ?? "text";
}

/** The introspect markdown as sections: `### Title`, `- item` lists, fenced code, other lines as paragraphs. */
export function introspectSections(markdown: string): { lead: TourBlock[]; sections: TourSection[] } {
  const lead: TourBlock[] = [];
  const sections: { title: string; blocks: TourBlock[] }[] = [];
  const blocks = () => (sections.length > 0 ? sections[sections.length - 1]!.blocks : lead);
  const lines = markdown.split("\n");
  let list: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith("- ")) list = null;
    if (line.startsWith("### ")) sections.push({ title: line.slice(4), blocks: [] });
    else if (line.startsWith("- ")) {
      if (list === null) {
        list = [];
        blocks().push({ kind: "list", items: list });
      }
      list.push(line.slice(2));
    } else if (/^```/.test(line)) {
      const lang = line.replace(/^`+/, "") || "text";
      const body: string[] = [];
      while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1]!)) body.push(lines[++i]!);
      i++;
      blocks().push({ kind: "code", lang, text: body.join("\n") });
    } else if (line.trim() !== "") blocks().push({ kind: "p", text: line });
  }
  return { lead, sections: sections.map((s) => ({ id: slug(s.title), level: 3 as const, title: s.title, blocks: s.blocks })) };
}

function evidenceLine(e: { name: string; payload: Record<string, unknown> }): string {
  const p = e.payload;
  const parts: string[] = [];
  if (typeof p.description === "string") parts.push(oneLine(p.description));
  if (typeof p.command === "string") parts.push(`runs \`${oneLine(p.command)}\``);
  if (typeof p.expectedOutput === "string") parts.push(`expects \`${oneLine(p.expectedOutput)}\``);
  if (typeof p.text === "string") parts.push(oneLine(p.text));
  const rest = Object.keys(p).filter((k) => !["description", "command", "expectedOutput", "text"].includes(k)).sort();
  if (rest.length > 0) parts.push(`payload ${rest.map((k) => `\`${k}\``).join(", ")}`);
  return `\`${e.name}\`${parts.length > 0 ? `: ${parts.join("; ")}` : ""}`;
}

/** Builds the tour page of a program from the facts the CLI gathered. */
export function tourPage(program: Program, facts: TourFacts, options: CompileOptions = {}): TourPage {
  const view: IntrospectResult = introspect(program, options);
  const doc = describe(program).model;
  const plan = compile(program, options);
  const m = view.materialization;
  const arg = facts.builderArg;
  const builderFile = facts.sources[0]?.path ?? arg;

  const lead: TourBlock[] = [
    {
      kind: "p",
      text: `This tour builds \`${m.derivationName}\` (builder \`${m.builder}\`) from \`${builderFile}\`. Every section below is generated by \`mb docs\` from the builder's program: the same views \`mb validate\`, \`mb deps\`, \`mb dry-run\`, \`mb plan\`, \`mb describe\` and \`mb introspect\` print for \`${arg}\`.`,
    },
  ];

  const artifact: TourBlock[] = [];
  artifact.push({ kind: "p", text: m.outputCount === 0 ? `The build produces \`${m.derivationName}\`; it declares no named outputs, so the whole \`$out\` is the result.` : `The build produces \`${m.derivationName}\` with ${m.outputCount} declared output(s), each checked in its format when the build seals:` });
  if (m.outputCount > 0) artifact.push({ kind: "list", items: plan.outputs.map((o) => `\`${o.name}\` at \`${o.path}\` (${o.format})`) });
  if (view.documentation.descriptorLines.length > 0) {
    artifact.push({ kind: "p", text: "Descriptors say what the artifact is:" }, { kind: "list", items: view.documentation.descriptorLines });
  }
  if (view.documentation.runtimeServiceLines.length > 0) {
    artifact.push({ kind: "p", text: "At run time it provides:" }, { kind: "list", items: view.documentation.runtimeServiceLines });
  }
  if (doc.inputs.length + doc.dependencies.length + doc.tools.length > 0) {
    artifact.push({
      kind: "p",
      text: `It reads ${doc.inputs.length} input(s) and ${doc.dependencies.length} dependenc${doc.dependencies.length === 1 ? "y" : "ies"}, and uses ${doc.tools.length} tool(s)${doc.tools.length > 0 ? `: ${doc.tools.map((t) => `\`${t.name}\``).join(", ")}` : ""}.`,
    });
  }

  const sources: TourBlock[] = [{ kind: "p", text: "The complete source of the builder: the module plus the files beside it." }];
  for (const s of facts.sources) sources.push({ kind: "code", lang: langOf(s.path), text: s.text, caption: s.path });

  const vocabulary: TourBlock[] = [];
  vocabulary.push({
    kind: "p",
    text:
      facts.specJson === null
        ? "The builder exports a program rather than a spec: its operations are the vocabulary, listed in the walkthrough below."
        : facts.ornament !== null
          ? `The spec carries the fields of the \`${facts.ornament}\` ornament (\`mb schema ${facts.ornament}\` gives their JSON Schema). Its constructor checks them and lowers them into the base \`BuilderSpec\`'s program, so the example stays at the domain surface. The spec as data:`
          : "The spec is a base `BuilderSpec` (`mb schema` gives its JSON Schema): typed data naming the parameters, inputs, dependencies, tools, operations, outputs and evidence. The spec as data:",
  });
  if (facts.specJson !== null) vocabulary.push({ kind: "code", lang: "json", text: facts.specJson });

  const families = { builder: 0, runtime: 0 };
  for (const o of doc.operations) families[o.family] += 1;
  const walkthrough: TourBlock[] = [
    {
      kind: "p",
      text: `The spec lowers to ${doc.operations.length} operation(s) over the fixed alphabet (${families.builder} build-time, ${families.runtime} runtime), in this order:`,
    },
    { kind: "list", ordered: true, items: doc.operations.map((o) => `\`${o.constructor}\` \`${o.name}\`: ${oneLine(o.summary)}`) },
    { kind: "p", text: "Because the steps are data, every view below renders them by name: dependency analysis, dry-run, plan view and self-documentation all show the same program." },
  ];

  const intro = introspectSections(view.markdown);
  const manyViews: TourBlock[] = [
    { kind: "p", text: "The section below is generated from the program by the introspect view (`mb introspect`): validation, dependency graph, dry-run, plan view, shell excerpt, runtime services, descriptors, self-documentation, outputs and materialization." },
    ...intro.lead,
  ];
  const viewSections: TourSection[] = intro.sections.map((s) =>
    s.title === "Dependency Graph" && facts.svg !== null
      ? { ...s, blocks: [...s.blocks, { kind: "svg", svg: facts.svg, caption: `The dependency graph of \`${m.derivationName}\`, drawn by graphviz from \`mb deps --format dot\`.` }] }
      : s,
  );

  const evidence: TourBlock[] =
    doc.evidence.length === 0
      ? [{ kind: "p", text: "No evidence is declared." }]
      : [
          { kind: "p", text: "The evidence travels with the spec. `mb check` runs each entry that has a command against the built result and compares its output:" },
          { kind: "list", items: doc.evidence.map(evidenceLine) },
        ];

  const r = facts.result;
  const results: TourBlock[] = [];
  if (r.built && r.storePath !== null) {
    results.push({ kind: "p", text: `Built: the entry \`${r.storePath}\` holds:` });
    results.push({ kind: "list", items: r.listing.map((l) => `\`${l}\``) });
    if (r.more > 0) results.push({ kind: "p", text: `… and ${r.more} more.` });
  } else if (r.storePath !== null) {
    results.push({ kind: "p", text: `Not built in this store yet: \`mb build ${arg}\` makes \`${r.storePath}\` (the store path is known before building).` });
  } else {
    results.push({ kind: "p", text: `Not built: the store path is not known yet, because some package or input is missing (\`mb path ${arg}\` names it).` });
  }

  const h2 = (title: string, blocks: TourBlock[]): TourSection => ({ id: slug(title), level: 2, title, blocks });
  const [artifactT, sourcesT, vocabularyT, walkthroughT, viewsT, evidenceT, resultsT] = TOUR_SECTIONS;
  return {
    title: facts.title,
    lead,
    sections: uniqueIds([
      h2(artifactT, artifact),
      h2(sourcesT, sources),
      h2(vocabularyT, vocabulary),
      h2(walkthroughT, walkthrough),
      h2(viewsT, manyViews),
      ...viewSections,
      h2(evidenceT, evidence),
      h2(resultsT, results),
    ]),
  };
}

/** Section ids made unique (a view section may share a title with a page section): `-2`, `-3`, ... */
function uniqueIds(sections: TourSection[]): TourSection[] {
  const seen = new Set<string>();
  return sections.map((s) => {
    let id = s.id;
    for (let n = 2; seen.has(id); n++) id = `${s.id}-${n}`;
    seen.add(id);
    return id === s.id ? s : { ...s, id };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/** A code fence longer than any run of backticks in the text. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((x) => x[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

function blockMarkdown(b: TourBlock): string {
  switch (b.kind) {
    case "p":
      return b.text;
    case "list":
      return b.items.map((item, i) => `${b.ordered ? `${i + 1}.` : "-"} ${oneLine(item)}`).join("\n");
    case "code": {
      const f = fence(b.text);
      return `${b.caption !== undefined ? `\`${oneLine(b.caption)}\`:\n\n` : ""}${f}${b.lang}\n${b.text}\n${f}`;
    }
    case "svg":
      return `Dependency graph (SVG): see index.html, or run \`mb deps --format svg\`. ${b.caption}`;
  }
}

/** Renders a tour page as markdown. */
export function tourMarkdown(page: TourPage): string {
  const parts = [`# ${oneLine(page.title)}`, ...page.lead.map(blockMarkdown)];
  for (const s of page.sections) parts.push(`${"#".repeat(s.level)} ${oneLine(s.title)}`, ...s.blocks.map(blockMarkdown));
  return parts.join("\n\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** Inline text: backtick spans become <code>, everything escaped. An unpaired backtick stays as text. */
export function inlineHtml(text: string): string {
  const parts = text.split("`");
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const odd = i % 2 === 1;
    if (odd && i === parts.length - 1) out += "`" + escapeHtml(parts[i]!);
    else out += odd ? `<code>${escapeHtml(parts[i]!)}</code>` : escapeHtml(parts[i]!);
  }
  return out;
}

/**
 * The SVG element of graphviz's output, for inlining: the XML declaration, doctype and comments before `<svg` are
 * dropped. Graphviz writes every label and title XML-escaped; anything that is not one `<svg>…</svg>` element is refused.
 */
export function inlineSvg(svg: string): string {
  const start = svg.indexOf("<svg");
  const end = svg.lastIndexOf("</svg>");
  if (start < 0 || end < start) throw new MbError("docs.svg", "the dependency graph drawn by dot is not an SVG document", { exitCode: ExitCode.problems });
  const body = svg.slice(start, end + "</svg>".length);
  if (/<script|<foreignObject|\son[a-z]+\s*=/i.test(body)) throw new MbError("docs.svg", "the dependency graph drawn by dot holds script or event handlers", { exitCode: ExitCode.problems });
  return body.replace(/<!--[\s\S]*?-->\n?/g, "");
}

function blockHtml(b: TourBlock): string {
  switch (b.kind) {
    case "p":
      return `<p>${inlineHtml(b.text)}</p>`;
    case "list": {
      const tag = b.ordered ? "ol" : "ul";
      return `<${tag}>\n${b.items.map((i) => `  <li>${inlineHtml(i)}</li>`).join("\n")}\n</${tag}>`;
    }
    case "code":
      return `<figure class="code">${b.caption !== undefined ? `<figcaption><code>${escapeHtml(b.caption)}</code></figcaption>` : ""}<pre data-lang="${escapeHtml(b.lang)}"><code>${escapeHtml(b.text)}</code></pre></figure>`;
    case "svg":
      return `<figure class="graph">${inlineSvg(b.svg)}<figcaption>${inlineHtml(b.caption)}</figcaption></figure>`;
  }
}

const CSS = `
:root { color-scheme: light; --fg: #1f2933; --muted: #52606d; --line: #d9e2ec; --code: #f5f7fa; --accent: #1565c0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
nav.toc { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0 2rem; background: #fbfcfd; }
nav.toc ol { margin: .25rem 0; padding-left: 1.25rem; }
nav.toc ul { margin: .1rem 0; padding-left: 1.25rem; font-size: 90%; columns: 2; }
h1 { font-size: 1.9rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.35rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2.25rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; color: var(--muted); }
a { color: var(--accent); }
code { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--code); padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; overflow: auto; max-height: 32rem; }
pre code { background: none; padding: 0; white-space: pre; overflow-wrap: normal; }
figure { margin: 1rem 0; }
figcaption { font-size: 90%; color: var(--muted); margin: .25rem 0; }
figure.graph { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow: auto; background: #fff; }
figure.graph svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
ul, ol { padding-left: 1.5rem; }
li { margin: .1rem 0; }
footer { margin-top: 3rem; font-size: 85%; color: var(--muted); }
`;

function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(oneLine(title))}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
<footer>Generated by <code>mb docs</code>.</footer>
</main>
</body>
</html>
`;
}

/** Renders a tour page as one self-contained HTML document (inline CSS and SVG, no script, nothing fetched). */
export function tourHtml(page: TourPage): string {
  let toc = "";
  page.sections.forEach((s, i) => {
    const next = page.sections[i + 1];
    const link = `<a href="#${s.id}">${escapeHtml(s.title)}</a>`;
    if (s.level === 2) toc += `  <li>${link}${next?.level === 3 ? "\n    <ul>" : "</li>"}\n`;
    else toc += `      <li>${link}</li>\n${next?.level === 3 ? "" : "    </ul></li>\n"}`;
  });
  const body = [
    `<h1>${escapeHtml(oneLine(page.title))}</h1>`,
    ...page.lead.map(blockHtml),
    `<nav class="toc" aria-label="Contents"><strong>Contents</strong>\n<ol>\n${toc}</ol></nav>`,
    ...page.sections.map((s) => [`<h${s.level} id="${s.id}">${escapeHtml(s.title)}</h${s.level}>`, ...s.blocks.map(blockHtml)].join("\n")),
  ].join("\n");
  return htmlDocument(page.title, body);
}

// ---------------------------------------------------------------------------------------------------------------
// The index of a site (`mb docs --all`)

/** One page of a site, for its index. */
export interface SiteEntry {
  /** The page's folder, relative to the index (a plain name). */
  readonly dir: string;
  readonly title: string;
  readonly derivation: string;
  readonly outputs: number;
  readonly operations: number;
  readonly built: boolean;
}

/** The index of a site: one link per page, as markdown and HTML. */
export function siteIndex(title: string, entries: readonly SiteEntry[]): { markdown: string; html: string } {
  const href = (e: SiteEntry) => `${encodeURIComponent(e.dir)}/index.html`;
  const summary = (e: SiteEntry) => `\`${e.derivation}\`: ${e.operations} operation(s), ${e.outputs} output(s)${e.built ? ", built" : ""}`;
  const markdown =
    `# ${oneLine(title)}\n\n${entries.length} example(s), each a tour page generated by \`mb docs\`.\n\n` +
    entries.map((e) => `- [${oneLine(e.title)}](${encodeURIComponent(e.dir)}/index.md) — ${summary(e)}`).join("\n") +
    "\n";
  const items = entries.map((e) => `  <li><a href="${escapeHtml(href(e))}">${escapeHtml(oneLine(e.title))}</a> — ${inlineHtml(summary(e))}</li>`).join("\n");
  const html = htmlDocument(title, `<h1>${escapeHtml(oneLine(title))}</h1>\n<p>${entries.length} example(s), each a tour page generated by <code>mb docs</code>.</p>\n<ul class="examples">\n${items}\n</ul>`);
  return { markdown, html };
}
