// The original's c-codegen example: C sources generated from messages.def (`key:text` rows), compiled with gcc,
// archived with ar into a static library, linked into a CLI with main.c and smoke-tested; outputs the CLI (elf), the
// library (archive), the headers (directory) and a pkg-config file (text). messages.def and main.c reach the steps as
// path packages (imported by content), so store paths do not depend on where the repository lies.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  declareTool,
  defineOrnament,
  descriptor,
  emitDescriptor,
  evidence,
  ExitCode,
  fromOrnamentedSpec,
  MbError,
  generatedSource,
  hostPackage,
  markOrnamented,
  materializeDerivation,
  output,
  parameter,
  pathPackage,
  readSource,
  runTool,
  tool,
  transformOutput,
  writeFile,
  type PackageRef,
} from "metabuilder";

/** CCodegenBuilder: the base spec plus compiler, schema, configDefines and artifactKind. */
export const CCodegenBuilder = defineOrnament({
  name: "MetaBuilderCCodegen",
  fields: {
    compiler: z.string().describe("the C compiler's name"),
    schema: z.unknown().describe("the message schema the C sources are generated from"),
    configDefines: z.record(z.string(), z.union([z.string(), z.number()])).describe("the #defines of include/config.h"),
    artifactKind: z.string().describe("what the build produces"),
  },
});
export type CCodegenSpec = z.output<typeof CCodegenBuilder.schema>;

/** Arguments of `cCodegen`, with the original's defaults. */
export interface CCodegenArgs {
  readonly name: string;
  /** The absolute path of the schema (`key:text` per line). */
  readonly schema: string;
  /** The absolute path of the CLI's main.c. */
  readonly main: string;
  readonly compilerPackage?: PackageRef;
  readonly binutilsPackage?: PackageRef;
  readonly compiler?: string;
  readonly configDefines?: Readonly<Record<string, string | number>>;
  readonly artifactKind?: string;
}

const base = (p: string) => p.split("/").pop()!;

/** A local file the build reads must exist: checked when the builder loads, so nothing runs without it (exit 2). */
function requireFile(path: string, field: string): void {
  if (!existsSync(path)) {
    throw new MbError("input.missing", `cCodegen: ${field}: '${path}' does not exist`, { exitCode: ExitCode.usage, issues: [{ path: [field], message: `'${path}' does not exist` }] });
  }
}

/** The original's cCodegen. Beyond it: coreutils is declared (the scripts run mkdir; Nix's stdenv had it implicitly). */
export function cCodegen(args: CCodegenArgs): CCodegenSpec {
  const {
    name,
    compilerPackage = hostPackage("gcc"),
    binutilsPackage = hostPackage("binutils"),
    compiler = "gcc",
    configDefines = { DEMO_FEATURE: 1, MESSAGE_LIMIT: 8 },
    artifactKind = "static-library-with-cli",
  } = args;
  requireFile(args.schema, "schema");
  requireFile(args.main, "main");
  const schemaFile = pathPackage(args.schema, base(args.schema));
  const mainFile = pathPackage(args.main, base(args.main));
  const schemaSource = generatedSource({ name: base(args.schema), producer: `pathPackage ${base(args.schema)}` });
  const mainSource = generatedSource({ name: base(args.main), producer: `pathPackage ${base(args.main)}` });

  const gccTool = tool({ name: "gcc", package: compilerPackage });
  const arTool = tool({ name: "ar", package: binutilsPackage });
  const bashTool = tool({ name: "bash", package: hostPackage("bash") });
  const coreutilsTool = tool({ name: "coreutils", package: hostPackage("coreutils") });

  const cliOutput = output({ name: "cli", path: `$out/bin/${name}`, format: "elf" });
  const libraryOutput = output({ name: "static-library", path: `$out/lib/lib${name}.a`, format: "archive" });
  const headerOutput = output({ name: "headers", path: "$out/include", format: "directory" });
  const pkgConfigOutput = output({ name: "pkg-config", path: `lib/pkgconfig/${name}.pc`, format: "text" });

  // Nix's mapAttrsToList gives the keys sorted.
  const defineLines = Object.keys(configDefines).sort().map((k) => `#define ${k} ${configDefines[k]}`).join("\n");

  // `$1` is the schema; the name comes in as `$2`, never spliced into the script.
  const codegenScript = [
    "set -eu",
    'schema="$1"; name="$2"',
    'mkdir -p "$out/generated" "$out/include" "$out/lib" "$out/bin" "$out/share/$name" "$out/lib/pkgconfig"',
    'header="$out/include/generated_messages.h"',
    'source="$out/generated/generated_messages.c"',
    "printf '%s\\n' '#pragma once' '#include \"config.h\"' > \"$header\"",
    "printf '%s\\n' '#include \"generated_messages.h\"' > \"$source\"",
    "while IFS=: read key text; do",
    '  if [ -z "$key" ]; then',
    "    continue",
    "  fi",
    "  printf 'const char *message_%s(void);\\n' \"$key\" >> \"$header\"",
    "  printf 'const char *message_%s(void) { return \"%s\"; }\\n' \"$key\" \"$text\" >> \"$source\"",
    'done < "$schema"',
  ].join("\n");
  const smokeScript = ['set -eu', 'name="$1"', 'mkdir -p "$out/share/$name"', '"$out/bin/$name" > "$out/share/$name/smoke.txt"'].join("\n");
  const packageConfig = [
    "prefix=$out",
    "exec_prefix=$out",
    "libdir=$out/lib",
    "includedir=$out/include",
    "",
    `Name: ${name}`,
    "Description: generated C demo library",
    "Version: 0.1.0",
    `Libs: -L$out/lib -l${name}`,
    "Cflags: -I$out/include",
    "",
  ].join("\n");

  const operations = [
    readSource({ name: schemaSource.name, source: schemaSource }),
    readSource({ name: mainSource.name, source: mainSource }),
    declareTool({ tool: bashTool }),
    declareTool({ tool: gccTool }),
    declareTool({ tool: arTool }),
    declareTool({ tool: coreutilsTool }),
    // The original's format here is "c-header", outside the closed set of output formats; it is not a declared output.
    writeFile({ output: output({ name: "config-header", path: "include/config.h", format: "text" }), text: `${defineLines}\n` }),
    runTool({ name: "generate-c-sources", tool: bashTool, args: ["-c", codegenScript, "generate-c-sources", schemaFile, name] }),
    runTool({ name: "compile-generated-object", tool: gccTool, args: ["-I$out/include", "-c", "$out/generated/generated_messages.c", "-o", "$out/generated/generated_messages.o"] }),
    runTool({ name: "archive-library", tool: arTool, args: ["rcs", `$out/lib/lib${name}.a`, "$out/generated/generated_messages.o"] }),
    runTool({ name: "link-demo-cli", tool: gccTool, args: ["-I$out/include", mainFile, `$out/lib/lib${name}.a`, "-o", `$out/bin/${name}`] }),
    runTool({ name: "smoke-test", tool: bashTool, args: ["-c", smokeScript, "smoke-test", name] }),
    writeFile({ output: pkgConfigOutput, text: packageConfig }),
    emitDescriptor({
      descriptor: descriptor({
        name: `${name}-metadata`,
        payload: {
          kind: "c-codegen",
          artifactKind,
          compiler,
          configDefines,
          generated: ["include/generated_messages.h", "generated/generated_messages.c", `lib/lib${name}.a`, `bin/${name}`],
        },
      }),
    }),
    transformOutput({ output: cliOutput }),
    transformOutput({ output: libraryOutput }),
    transformOutput({ output: headerOutput }),
    transformOutput({ output: pkgConfigOutput }),
    materializeDerivation({ name: `${name}-artifact`, builder: "runCommand" }),
  ];

  const spec = CCodegenBuilder.schema.parse({
    _con: "MetaBuilderSpec",
    name,
    compiler,
    schema: base(args.schema),
    configDefines,
    artifactKind,
    parameters: [parameter({ name: "artifactKind", value: artifactKind })],
    inputs: [schemaSource, mainSource],
    dependencies: [],
    tools: [bashTool, gccTool, arTool, coreutilsTool],
    operations,
    outputs: [cliOutput, libraryOutput, headerOutput, pkgConfigOutput],
    evidence: [evidence({ name: "smoke-test", payload: { command: `"$out"/bin/${name}`, expectedOutput: "hello from generated C" } })],
  });
  return markOrnamented(spec, CCodegenBuilder.inserted);
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export const spec = cCodegen({ name: "messages-demo", schema: here("./messages.def"), main: here("./main.c") });

export default fromOrnamentedSpec(CCodegenBuilder, spec);
