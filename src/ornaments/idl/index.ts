/**
 * The idl ornament (reference section 6), stacked over code-gen: `idlFormat` and `idlSource`, and `fromProtobuf`,
 * which lowers to readSource per proto, resolveDependency per native package of the languages, declareTool protoc,
 * runTool `protoc-<lang>-<proto basename>` per language x proto (args: `-I<include>`s, the language's out flags,
 * `--<lang>_opt=<opt>` per option, the proto), transformOutput per language, the `<name>-idl` descriptor and
 * materializeDerivation `<name>-generated` (the original's `fromProtobuf`). Beyond the original, protoc's output
 * directories are made before it runs (`createOutputDirs`, on by default: protoc writes into `$out/<lang>` but does
 * not create it), and a proto may lie inside a content-addressed directory (`{root, file}`), so its generated files
 * keep their names (`schema.pb.h`) and store paths do not depend on where the builder lies.
 */
import { z } from "zod";
import * as C from "../../program/constructors.js";
import type { Operation } from "../../core/operations.js";
import { ExitCode, MbError } from "../../core/errors.js";
import { packageInfo } from "../../core/package.js";
import { PackageRef, type Dependency } from "../../core/spec.js";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import { CodeGenBuilder, Language, perLanguageOutput } from "../code-gen/index.js";

/**
 * A proto source: an absolute path (the original's form; protoc needs an include covering it), or a file inside a
 * directory package, given to protoc as `--proto_path <root> <file>`.
 */
export const ProtoSource = z.union([
  z.string().regex(/^\//, "a proto given as a path is absolute (or give {root, file}: a directory package and the proto's path inside it)"),
  strictObject({
    root: PackageRef.describe("the directory holding the proto (a pathPackage imports it by content)"),
    file: z.string().regex(/^[^/].*\.proto$/, "file is the proto's relative path inside root, ending in .proto"),
  }),
]);
export type ProtoSource = z.infer<typeof ProtoSource>;

/** IdlBuilder: CodeGenBuilder plus the IDL's format and its sources. */
export const IdlBuilder = defineOrnament({
  name: "MetaBuilderIdl",
  base: CodeGenBuilder,
  fields: {
    idlFormat: z.string().describe("the IDL's format, e.g. protobuf"),
    idlSource: z.unknown().describe("the IDL documents the generator reads"),
  },
});
export type IdlSpec = z.output<typeof IdlBuilder.schema>;

/** How protoc generates one language: its out flags, and native packages its plugins need. */
export interface ProtobufLanguage {
  readonly args: (lang: string) => string[];
  readonly native: readonly PackageRef[];
}

/** The original's default languages (python's grpc plugin is Debian's python3-grpc-tools). */
export const defaultProtobufLanguages: Readonly<Record<string, ProtobufLanguage>> = {
  go: { args: (lang) => [`--${lang}_out=$out/${lang}`, `--${lang}-grpc_out=$out/${lang}`], native: [] },
  python: { args: (lang) => [`--${lang}_out=$out/${lang}`, `--grpc_python_out=$out/${lang}`], native: [C.hostPackage("python3-grpc-tools")] },
  cpp: { args: (lang) => [`--${lang}_out=$out/${lang}`], native: [] },
  java: { args: (lang) => [`--${lang}_out=$out/${lang}`], native: [] },
};

/** Arguments of `fromProtobuf`, with the original's defaults. */
export const FromProtobufArgs = strictObject({
  name: storeNamed("-generated".length).min(1),
  protos: z.union([ProtoSource, z.array(ProtoSource).min(1)]),
  languages: z.array(Language).default(["cpp"]),
  options: z.record(z.string(), z.array(z.string())).default({}),
  /** The package of protoc: Debian's protobuf-compiler by default. */
  protobufPackage: PackageRef.default({ _con: "hostPackage", name: "protobuf-compiler" }),
  includes: z.array(z.string()).default([]),
  /** Make `$out/<lang>` before protoc runs (one mkdir step, coreutils declared); false gives the original's operations exactly. */
  createOutputDirs: z.boolean().default(true),
  coreutilsPackage: PackageRef.default({ _con: "hostPackage", name: "coreutils" }),
});
export type FromProtobufArgs = z.input<typeof FromProtobufArgs> & { languageConfigs?: Readonly<Record<string, ProtobufLanguage>> };

const baseName = (p: string) => p.replace(/\/+$/, "").split("/").pop() ?? p;
const protoName = (p: ProtoSource) => baseName(typeof p === "string" ? p : p.file);

/** The original's `fromProtobuf`: a typed protobuf code-generation spec; an unknown language is an error naming it. */
export function fromProtobuf(args: FromProtobufArgs): IdlSpec {
  const { languageConfigs = defaultProtobufLanguages, ...rest } = args;
  const a = parseOrThrow(FromProtobufArgs, rest, "fromProtobuf", "constructor.invalid");
  const known = Object.keys(languageConfigs);
  const unknown = a.languages.flatMap((lang, i) => (Object.hasOwn(languageConfigs, lang) ? [] : [{ path: ["languages", i], message: `unknown language '${lang}' (known: ${known.join(", ")})` }]));
  if (unknown.length > 0) {
    throw new MbError("constructor.invalid", `fromProtobuf: ${unknown.map((u) => `languages[${u.path[1]}]: ${u.message}`).join("; ")}`, { exitCode: ExitCode.usage, issues: unknown });
  }
  const protos = Array.isArray(a.protos) ? a.protos : [a.protos];
  const protoc = C.tool({ name: "protoc", package: a.protobufPackage });
  const includeArgs = a.includes.map((i) => `-I${i}`);
  const natives = [...new Map(a.languages.flatMap((l) => languageConfigs[l]!.native).map((p) => [packageInfo(p).packageName, p])).values()];
  const dependencies: Dependency[] = natives.map((p) => C.dependency({ name: packageInfo(p).packageName, role: "native", package: p }));
  const inputs = protos.map((p) =>
    typeof p === "string" ? C.localSource({ name: protoName(p), path: p }) : C.generatedSource({ name: protoName(p), producer: `${packageInfo(p.root).packageName}/${p.file}` }),
  );
  const outputs = a.languages.map(perLanguageOutput);
  const mkdir = C.tool({ name: "mkdir", package: a.coreutilsPackage });
  const runs = a.languages.flatMap((lang) =>
    protos.map((p) =>
      C.runTool({
        name: `protoc-${lang}-${protoName(p)}`,
        tool: protoc,
        args: [
          ...includeArgs,
          ...(typeof p === "string" ? [] : ["--proto_path", p.root]),
          ...languageConfigs[lang]!.args(lang),
          ...(a.options[lang] ?? []).map((opt) => `--${lang}_opt=${opt}`),
          typeof p === "string" ? p : p.file,
        ],
        env: {},
      }),
    ),
  );
  const operations: Operation[] = [
    ...inputs.map((src) => C.readSource({ name: src.name, source: src })),
    ...dependencies.map((dependency) => C.resolveDependency({ dependency })),
    C.declareTool({ tool: protoc }),
    ...(a.createOutputDirs ? [C.declareTool({ tool: mkdir }), C.runTool({ name: "make-output-dirs", tool: mkdir, args: ["-p", ...a.languages.map((l) => `$out/${l}`)] })] : []),
    ...runs,
    ...outputs.map((output) => C.transformOutput({ output })),
    C.emitDescriptor({
      descriptor: C.descriptor({ name: `${a.name}-idl`, payload: { kind: "idl", format: "protobuf", languages: a.languages, sources: protos.map(protoName) } }),
    }),
    C.materializeDerivation({ name: `${a.name}-generated`, builder: "runCommand" }),
  ];
  const spec = {
    _con: "MetaBuilderSpec" as const,
    idlFormat: "protobuf",
    idlSource: protos,
    generator: "protoc",
    name: a.name,
    languages: a.languages,
    parameters: [],
    inputs,
    dependencies,
    tools: a.createOutputDirs ? [protoc, mkdir] : [protoc],
    operations,
    outputs,
    evidence: [],
  };
  return markOrnamented(parseOrThrow(IdlBuilder.schema, spec, "fromProtobuf", "constructor.invalid"), IdlBuilder.inserted);
}

/** The idl ornament as the registry loads it: the original's two-proto, two-language demo. */
export const idlOrnament: LoadedOrnament<typeof IdlBuilder.schema> = {
  ornament: IdlBuilder,
  example: () => fromProtobuf({ name: "demo", protos: ["/tmp/a.proto", "/tmp/b.proto"], languages: ["cpp", "java"] }),
};
