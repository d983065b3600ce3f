// Part of `npm run build`, after tsc: zod as one module (dist/vendor/zod.js, bundled by esbuild), and every `from "zod"`
// of dist/ pointed at it. zod's package is some 100 modules (its 64 locales among them); Node resolves and loads each
// at every `mb` start that validates anything, about 55 ms, where the one bundled module takes about 28.
// The types (dist/**/*.d.ts) still name "zod": the package's own, which is the same version.
import { build } from "esbuild";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const vendored = join(dist, "vendor", "zod.js");

await build({
  stdin: { contents: 'export * from "zod";\n', resolveDir: root, loader: "js" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outfile: vendored,
  legalComments: "inline",
  logLevel: "warning",
});

let using = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (path !== dirname(vendored)) walk(path);
    } else if (e.name.endsWith(".js")) {
      const text = readFileSync(path, "utf8");
      let spec = relative(dirname(path), vendored);
      if (!spec.startsWith(".")) spec = `./${spec}`;
      const next = text.replace(/(\bfrom\s*|\bimport\s*\(\s*)"zod"/g, (_, lead) => `${lead}"${spec}"`);
      if (next !== text) writeFileSync(path, next);
      if (next.includes(`"${spec}"`)) using++;
    }
  }
};
walk(dist);
if (using === 0) throw new Error("vendor-zod: no module of dist/ imports zod: run it after tsc");
