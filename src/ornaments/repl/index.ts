/**
 * The REPL server vocabulary (the original's replServer ornament): the built-in REPL protocols swank, nrepl and dap,
 * `define` (port and port variable from the protocol, registration from the mode), and the `repl` ornament: a spec
 * that carries a `replServer` field beside its operations, as the original's composed specs do. The original lowers a
 * REPL server to no operation, so forgetting the field leaves the program unchanged.
 */
import * as C from "../../program/constructors.js";
import { markOrnamented } from "../../core/ornamented.js";
import { REPL_PROTOCOLS } from "../../core/runtime-builtins.js";
import { ReplServer, type ReplServerInput } from "../../core/repl.js";
import { BuilderSpec, type BuilderSpecInput } from "../../core/spec.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import type { z } from "zod";

/** Builds a typed REPL server: a protocol (a record or a built-in name), a mode, and what may be overridden. */
export function define(args: ReplServerInput): ReplServer {
  return parseOrThrow(ReplServer, args, "replServer", "constructor.invalid");
}

/** The REPL server vocabulary under the original's names. */
export const replServer = {
  define,
  protocols: REPL_PROTOCOLS,
  Mode: { Foreground: "Foreground", Background: "Background" },
  Registration: { XDG: "XDG", Global: "Global", ServiceSpec: "ServiceSpec", None: "None" },
  Lifecycle: { LongRunning: "LongRunning", OneShot: "OneShot" },
} as const;

/** ReplServerBuilder: the base spec plus a `replServer` (checked: known protocol, port 1-65535, a port to listen on). */
export const ReplServerBuilder = defineOrnament({ name: "MetaBuilderReplServer", fields: { replServer: ReplServer } });
export type ReplServerSpec = z.output<typeof ReplServerBuilder.schema>;

/** A spec of the `repl` ornament: `spec` (a base spec) carrying the REPL server `repl`. */
export function withReplServer(spec: BuilderSpecInput, repl: ReplServerInput): ReplServerSpec {
  const base = parseOrThrow(BuilderSpec, spec, "withReplServer spec", "constructor.invalid");
  return markOrnamented({ ...base, replServer: define(repl) }, ReplServerBuilder.inserted);
}

/** The repl ornament as the registry loads it, with a sample spec: a swank server in the background. */
export const replOrnament: LoadedOrnament<typeof ReplServerBuilder.schema> = {
  ornament: ReplServerBuilder,
  example: () =>
    withReplServer(
      { name: "example", parameters: [], inputs: [], dependencies: [], tools: [], operations: [C.materializeDerivation({ name: "example" })], outputs: [], evidence: [] },
      { protocol: "swank", mode: "Background" },
    ),
};
