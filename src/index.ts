/** metabuilder: builds as typed data, one closed alphabet of operations, many views. The package root. */
export * from "./core/errors.js";
export { sha256, storeHash, canonicalJson, type Digest } from "./core/hash.js";
export * from "./core/records.js";
export * from "./core/output-path.js";
export { editDistance, nearestName, STORE_NAME_MAX } from "./core/strict.js";
export * from "./core/runtime.js";
export * from "./core/spec.js";
export * from "./core/operations.js";
export * from "./core/plan.js";
export { packageInfo, storeName, isPackageObject, type PackageInfo } from "./core/package.js";
export { parseOrThrow } from "./core/validate-schema.js";
export { jsonSchemaOf, inlineJsonSchemaOf } from "./core/json-schema.js";

export * from "./program/constructors.js";
export { sequence, fromSpec, compileSpec, fold, isProgram, unsafeProgram, type Program, type OpHandlers } from "./program/program.js";
export { compile, DEFAULT_STORE_DIR, type CompileOptions } from "./program/compile.js";
export { scopeProblems, scopeMessage, type ScopeProblem } from "./program/scope.js";
export { escapeShellArg, isLocalPath, pathMapKey, renderArg, splitAroundOut, heredocMarker } from "./program/render.js";
export { planSteps, renderStep, planShell, stepVerb, type StepDef, type StepTable } from "./program/steps.js";

export { validate, type Diagnostic, type ValidationResult } from "./views/validate.js";
export { deps, depsToMermaid, type DepNode, type DepEdge, type DepEdgeKind, type DepsResult } from "./views/deps.js";
export { dryRun, isRuntimeStep, type DryRunStep, type DryRunResult } from "./views/dry-run.js";
export { planView, planViewOf, type PlanViewResult } from "./views/plan-view.js";
export { describe, renderDocumentation, type DescribeResult } from "./views/describe.js";
export { introspect, renderIntrospect, type IntrospectResult, type IntrospectView } from "./views/introspect.js";
export { planExport, planExportOf } from "./views/plan-export.js";
/** `depsToDot` is the one DOT renderer, `depsDot` (quoted for graphviz; the name kept for the API). */
export { depsDot, depsDot as depsToDot, dotId, dotLabel } from "./views/dot.js";
export { TOUR_SECTIONS, type TourPage, type TourSection, type TourBlock, type TourFacts, type TourSource, type TourResult } from "./views/tour/model.js";
export { tourPage, introspectSections } from "./views/tour/page.js";
export { tourMarkdown } from "./views/tour/markdown.js";
export { tourHtml, siteIndex, escapeHtml, inlineHtml, type SiteEntry } from "./views/tour/html.js";
export { inlineSvg } from "./views/tour/svg.js";

export { renderShell, shellUnsupportedReasons } from "./backends/shell.js";
export { renderStandaloneShell } from "./backends/shell-standalone.js";
export { renderNix, nixString, NIX_HOST_PATHS } from "./backends/nix.js";
export type { StandaloneGraph, StandaloneBuild, StandaloneImport } from "./backends/shell-graph.js";
export { renderDockerfile, dockerfileUnsupportedReasons } from "./backends/dockerfile.js";
export { renderDockerfileContext, type ContextBuild, type ContextFile, type ContextOptions, type RenderedContext } from "./backends/dockerfile-context.js";

export { defineOrnament, fromOrnamentedSpec, type Ornament, type OrnamentDescriptor } from "./ornaments/ornament.js";
export { ociImage, OciImageBuilder, OciLayer, type OciImageSpec, type OciImageArgs } from "./oci/ornament.js";
export { OciBase, parseBase } from "./oci/base/reference.js";
export { LockFile, parseLock } from "./oci/base/lock.js";
export { OciFileMeta, OciMetadata, ImageTags } from "./oci/image-config.js";
export { ociIndex, OciIndexBuilder, OciIndexImage, OciPlatform, type OciIndexSpec, type OciIndexArgs } from "./oci/index-ornament.js";
export { Attest } from "./oci/attest/options.js";
export { BuildInfo, BUILD_INFO_VAR } from "./core/build-info.js";
export { ORNAMENTS, findOrnament, ornamentEntry, type OrnamentEntry, type LoadedOrnament } from "./ornaments/registry.js";
export { SandboxProfile, TcpEndpoint, DisplayConfig, DnsConfig, LandlockProfile, SystemdHardening, SeccompStage, type SandboxProfileInput } from "./core/sandbox.js";
export * as sandbox from "./ornaments/sandbox/index.js";
// codegen: the build-side ornaments (issue 11).
export { forgetAll, ornamentStack } from "./ornaments/ornament.js";
export { markOrnamented } from "./core/ornamented.js";
export { codeGen, CodeGenBuilder, CodeGenArgs, perLanguageOutput, type CodeGenSpec, type Invocation } from "./ornaments/code-gen/index.js";
export { fromProtobuf, IdlBuilder, FromProtobufArgs, ProtoSource, defaultProtobufLanguages, type IdlSpec, type ProtobufLanguage } from "./ornaments/idl/index.js";
export { ProjectBuilder, defineProject, type ProjectSpec } from "./ornaments/project-builder/index.js";
export * as implementations from "./ornaments/implementations/index.js";
export * as vendoring from "./ornaments/vendoring/index.js";
export * as testing from "./ornaments/testing/index.js";
export * as dependencies from "./ornaments/dependencies/index.js";
export { serviceExecutable } from "./core/sandbox.js";
export { renderSystemd, renderUnit, joinUnits, unitFileName, servicePort, serviceEnvironment, type SystemdUnit, type SystemdOptions } from "./backends/systemd.js";
export { endpointOf, type Endpoint } from "./core/endpoint.js";

export * from "./core/runtime-builtins.js";
export * from "./core/repl.js";
export * from "./core/tooling.js";
export { RECORD_SCHEMAS, findRecordSchema, type RecordSchemaEntry } from "./core/record-schemas.js";
export { capabilities, schema as capabilitySchema, setSchemas, jsonSchemaType, type CapabilitySchema } from "./ornaments/capabilities/index.js";
export { http, HttpArgs } from "./ornaments/protocol/index.js";
export { operationsFor, type ServiceArgs, type ServiceDefinition } from "./ornaments/service/index.js";
export { replServer, ReplServerBuilder, withReplServer, type ReplServerSpec } from "./ornaments/repl/index.js";
export { toolEnv } from "./ornaments/tool-env/index.js";
export { transform, TransformBuilder, TransformArgs, type TransformSpec } from "./ornaments/transform/index.js";
export { vocabulary } from "./ornaments/vocabulary.js";
// api: the build API (build, check, path, gc, verify); it loads the engine only when called.
export { build, check, path, gc, verify, type BuilderRef, type ApiOptions, type BuildOptions, type BuildResult, type Run, type BuildEvent, type CheckOutcome, type EvidenceOutcome, type ServiceOutcome, type GcOutcome, type VerifyOutcome } from "./api.js";
