// Reading src/ for the architecture tests: every TypeScript file, its layer, and every module it imports.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const SRC = join(ROOT, "src");

/** Every `.ts` file under src/, as a path relative to the repository root (`src/...`), sorted. */
export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(full));
    else if (e.isFile() && e.name.endsWith(".ts")) out.push(relative(ROOT, full));
  }
  return out.sort();
}

/** One import of a module: what it names, whether only types, and where (1-based line). */
export interface ImportRef {
  readonly specifier: string;
  readonly typeOnly: boolean;
  readonly line: number;
  readonly kind: "import" | "export" | "dynamic" | "type-query";
}

/** Every module a file imports: static imports, `export ... from`, dynamic `import("...")` and `import("...")` types. */
export function importsOf(file: string): ImportRef[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly, line: line(node), kind: "import" });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, line: line(node), kind: "export" });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      // A computed specifier cannot be checked: name it, so the test fails until it is a literal.
      out.push({ specifier: arg && ts.isStringLiteralLike(arg) ? arg.text : `<computed: ${arg?.getText(sf) ?? ""}>`, typeOnly: false, line: line(node), kind: "dynamic" });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ specifier: node.argument.literal.text, typeOnly: true, line: line(node), kind: "type-query" });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The number of lines of a file (a final newline ends the last line, it does not start another). */
export function lineCount(file: string): number {
  const text = readFileSync(join(ROOT, file), "utf8");
  if (text === "") return 0;
  const newlines = text.split("\n").length - 1;
  return text.endsWith("\n") ? newlines : newlines + 1;
}
