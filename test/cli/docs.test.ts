// `mb docs` (tour pages) and `mb deps --format dot|svg`, end to end: the page's sections against the seed page's, the
// graph drawn by graphviz (hostile names included), a built result listed, and every example's page (and the index)
// loaded in headless Chromium: no console errors, the graph rendered, a screenshot saved under test-artifacts/docs/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Chromium } from "../support/chromium.js";
import { mb, ROOT } from "../support/mb.js";
import { INTROSPECT_SECTIONS } from "../support/seed-sections.js";

const SEED = join(ROOT, "test/fixtures/seed/oci-image-example.txt");
const HOSTILE = "test/fixtures/docs/hostile.json";
const ARTIFACTS = join(ROOT, "test-artifacts/docs");

/** The seed page's headings after its title, in order (checked against the fixture below). */
const SEED_HEADINGS = [
  "Start from the artifact",
  "Source files",
  "Builder vocabulary",
  "Program walkthrough",
  "One build, many views",
  ...INTROSPECT_SECTIONS,
];

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const unxml = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#45;/g, "-").replace(/&amp;/g, "&");
/** The h1-h3 headings of a page, as text. */
const htmlHeadings = (html: string) => [...html.matchAll(/<h([1-3])(?: id="[^"]*")?>(.*?)<\/h\1>/g)].map((m) => ({ level: Number(m[1]), text: unxml(m[2]!) }));

function requireDot(): void {
  const r = spawnSync("dot", ["-V"], { encoding: "utf8" });
  if (r.error) throw new Error("graphviz's dot is not installed: apt-get install graphviz");
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("mb docs examples/oci-image", () => {
  it("the seed page's headings are lines of the fixture, in this order", () => {
    const lines = readFileSync(SEED, "utf8").split("\n").map((l) => l.trim());
    let at = lines.indexOf("OCI image example");
    expect(at).toBeGreaterThanOrEqual(0);
    for (const h of SEED_HEADINGS) {
      const next = lines.indexOf(h, at + 1);
      expect(next, h).toBeGreaterThan(at);
      at = next;
    }
  });

  it("writes index.md and index.html with the seed page's sections in the seed's order, then Evidence and Results", () => {
    requireDot();
    const d = tmp("mb-docs-");
    dirs.push(d);
    const out = join(d, "d");
    const r = mb(["docs", "examples/oci-image", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(out, "index.md")}\n${join(out, "index.html")}\n`);
    const html = readFileSync(join(out, "index.html"), "utf8");
    const hs = htmlHeadings(html);
    expect(hs[0]).toEqual({ level: 1, text: "oci image example" });
    expect(hs[0]!.text.toLowerCase()).toBe("OCI image example".toLowerCase());
    expect(hs.slice(1).map((h) => h.text)).toEqual([...SEED_HEADINGS, "Evidence", "Results"]);
    // The same headings in the markdown (outside code blocks).
    const md = readFileSync(join(out, "index.md"), "utf8");
    let fenced: string | null = null;
    const mdHeadings: string[] = [];
    for (const line of md.split("\n")) {
      const f = /^(`{3,})/.exec(line)?.[1];
      if (f !== undefined && (fenced === null || line.trim() === fenced)) fenced = fenced === null ? f : null;
      else if (fenced === null && /^#{1,3} /.test(line)) mdHeadings.push(line.replace(/^#+ /, ""));
    }
    expect(mdHeadings).toEqual(["oci image example", ...SEED_HEADINGS, "Evidence", "Results"]);
    // Generated content: the views' lines, the graph inline, the evidence, the store path `mb path` gives.
    expect(md).toContain("- run `assemble-rootfs-busybox` with `bash`");
    expect(md).toContain("- descriptor `busybox-shell-oci-image` (payload keys `architecture`, `entrypoint`, `exposedPorts`, `kind`, `labels`, `os`)");
    expect(md).toContain("`smoke-test`: runs `/bin/sh -c 'echo oci-smoke-ok'`; expects `oci-smoke-ok`");
    expect(md).toContain("The spec carries the fields of the `oci-image` ornament");
    expect(html.match(/<svg[\s>]/g)).toHaveLength(1);
    expect(html.match(/class="node"/g)).toHaveLength(11);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    const storePath = mb(["path", "examples/oci-image"]).stdout.trim();
    expect(md).toContain(`Not built in this store yet: \`mb build examples/oci-image\` makes \`${storePath}\``);
  });

  it("needs --out; --out and --all belong to docs only", () => {
    expect(mb(["docs", "examples/oci-image"])).toMatchObject({ status: 2, stdout: "", stderr: "mb: error: docs needs --out DIR: the directory the page is written to\nmb: hint: run `mb --help` for usage\n" });
    expect(mb(["deps", "--out", "x", "examples/oci-image"]).stderr).toBe("mb: error: --out applies to docs only\nmb: hint: run `mb --help` for usage\n");
    expect(mb(["docs", "--all", "--out", "x"]).status).toBe(2);
  });

  it("an --out that cannot be a directory is exit 1 naming the path, no stack trace", () => {
    const d = tmp("mb-docs-file-");
    dirs.push(d);
    const file = join(d, "file");
    writeFileSync(file, "x");
    const r = mb(["docs", "test/fixtures/cli/hello", "--out", file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^mb: error: cannot write '${file}/index.md': (EEXIST|ENOTDIR) `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("mb deps --format dot|svg", () => {
  it("svg: the oci-image graph drawn by graphviz, 11 nodes and 8 edges", () => {
    requireDot();
    const r = mb(["deps", "--format", "svg", "examples/oci-image"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/<svg width="\d+pt" height="\d+pt"/);
    expect(r.stdout.match(/class="node"/g)).toHaveLength(11);
    expect(r.stdout.match(/class="edge"/g)).toHaveLength(8);
  });

  it("hostile names stay names: graphviz reads the dot text as 3 nodes and 2 edges, each label drawn as the name itself", () => {
    requireDot();
    const dot = mb(["deps", "--format", "dot", HOSTILE]);
    expect(dot.status, dot.stderr).toBe(0);
    const svg = mb(["deps", "--format", "svg", HOSTILE]);
    expect(svg.status, svg.stderr).toBe(0);
    expect(svg.stdout.match(/class="node"/g)).toHaveLength(3);
    expect(svg.stdout.match(/class="edge"/g)).toHaveLength(2);
    const spec = JSON.parse(readFileSync(join(ROOT, HOSTILE), "utf8")) as { operations: { _con: string; name?: string }[]; tools: { name: string }[] };
    const texts = [...svg.stdout.matchAll(/<text [^>]*>(.*?)<\/text>/g)].map((m) => unxml(m[1]!));
    const expected = [
      `tool:${spec.tools[0]!.name}`,
      "(tool)",
      ...spec.operations.filter((o) => o._con === "runTool").flatMap((o) => [...`operation:${o.name}`.split("\n"), "(operation)"]),
      "uses-tool",
      "uses-tool",
    ];
    expect(texts.sort()).toEqual(expected.sort());
    expect(svg.stdout).not.toMatch(/<(script|img|iframe|b)[\s>]/);
  });
});

describe("mb docs of a built builder", () => {
  it("lists the store entry under Results", () => {
    requireDot();
    const d = tmp("mb-docs-built-");
    dirs.push(d);
    const store = join(d, "store");
    const b = mb(["build", "--no-out-link", "test/fixtures/cli/hello"], { store });
    expect(b.status, b.stderr).toBe(0);
    const storePath = b.stdout.trim().split("\n").at(-1)!;
    const r = mb(["docs", "test/fixtures/cli/hello", "--out", join(d, "page"), "--json"], { store });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).pages[0]).toMatchObject({ storePath, built: true });
    const md = readFileSync(join(d, "page", "index.md"), "utf8");
    const results = md.slice(md.indexOf("## Results"));
    expect(results).toBe(`## Results\n\nBuilt: the entry \`${storePath}\` holds:\n\n- \`greeting (12 bytes)\`\n- \`notes.txt (20 bytes)\`\n`);
  });
});

describe("tour pages in headless Chromium", () => {
  let browser: Chromium;
  let site: string;
  beforeAll(() => {
    requireDot();
    browser = new Chromium();
    site = join(tmp("mb-docs-site-"), "site");
    dirs.push(join(site, ".."));
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const PROBE = `(() => {
    const svg = document.querySelector("figure.graph svg");
    const box = svg ? svg.getBoundingClientRect() : null;
    return {
      title: document.title,
      headings: [...document.querySelectorAll("h2, h3")].map((h) => h.textContent),
      nodes: svg ? svg.querySelectorAll("g.node").length : 0,
      width: box ? box.width : 0,
      height: box ? box.height : 0,
      scripts: document.querySelectorAll("script, iframe, img, object, embed").length,
      links: [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")),
      text: document.body.innerText,
    };
  })()`;
  type Probe = { title: string; headings: string[]; nodes: number; width: number; height: number; scripts: number; links: string[]; text: string };

  function save(name: string, png: Buffer): string {
    const file = join(ARTIFACTS, `${name}.png`);
    writeFileSync(file, png);
    console.log(`screenshot: ${file}`);
    return file;
  }

  it("the probe is not blind: a page with a console error and an uncaught exception reports both", async () => {
    const bad = join(site, "..", "bad.html");
    writeFileSync(bad, '<!doctype html><meta charset="utf-8"><title>bad</title><script>console.error("boom");</script><script>throw new Error("thrown");</script><p>x</p>');
    const page = await browser.load(pathToFileURL(bad).href, "document.title");
    expect(page.value).toBe("bad");
    expect(page.errors.some((e) => e.startsWith("console.error: boom"))).toBe(true);
    expect(page.errors.some((e) => e.startsWith("exception:") && e.includes("thrown"))).toBe(true);
  });

  it("mb docs --all examples: a page per example and an index; each loads without console errors and draws its graph", async () => {
    const r = mb(["docs", "--all", "examples", "--out", site]);
    expect(r.status, r.stderr).toBe(0);
    const examples = readdirSync(join(ROOT, "examples"), { withFileTypes: true })
      .filter((e) => e.isDirectory() && ["builder.ts", "builder.js", "builder.mjs", "builder.json"].some((f) => existsSync(join(ROOT, "examples", e.name, f))))
      .map((e) => e.name)
      .sort();
    expect(examples).toContain("oci-image");
    expect(r.stdout.trim().split("\n")).toEqual([...examples.flatMap((e) => [join(site, e, "index.md"), join(site, e, "index.html")]), join(site, "index.md"), join(site, "index.html")]);

    const index = await browser.load(pathToFileURL(join(site, "index.html")).href, PROBE);
    expect(index.errors).toEqual([]);
    expect((index.value as Probe).links).toEqual(examples.map((e) => `${e}/index.html`));
    save("index", index.png);

    for (const e of examples) {
      const page = await browser.load(pathToFileURL(join(site, e, "index.html")).href, PROBE);
      const v = page.value as Probe;
      expect(page.errors, e).toEqual([]);
      expect(v.headings.slice(0, 5), e).toEqual(SEED_HEADINGS.slice(0, 5));
      expect(v.headings.slice(-2), e).toEqual(["Evidence", "Results"]);
      expect(v.nodes, e).toBeGreaterThan(0);
      expect(v.width, e).toBeGreaterThan(0);
      expect(v.height, e).toBeGreaterThan(0);
      expect(v.scripts, e).toBe(0);
      expect(page.png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect(existsSync(save(e, page.png))).toBe(true);
    }
  });

  it("a page of hostile names: nothing of the spec becomes markup, the names read as text, the graph renders", async () => {
    const out = join(site, "..", "hostile");
    const r = mb(["docs", HOSTILE, "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).not.toMatch(/<(script|img|iframe|b)[\s>]/i);
    const page = await browser.load(pathToFileURL(join(out, "index.html")).href, PROBE);
    const v = page.value as Probe;
    expect(page.errors).toEqual([]);
    expect(v.scripts).toBe(0);
    expect(v.nodes).toBe(3);
    expect(v.text).toContain('sh"];<script>alert(1)</script>');
    expect(v.text).toContain("<iframe src=//x>");
    save("hostile", page.png);
  });
});
