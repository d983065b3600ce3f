/**
 * The REPL server record (the original's REPLServerSpec): a REPL protocol, how the server runs (mode, lifecycle) and
 * how it is found (registration). Port and port variable fall back to the protocol's; registration is inferred from
 * the mode (Foreground: ServiceSpec, Background: XDG). A protocol may be given by the name of a built-in REPL protocol.
 */
import { z } from "zod";
import { REPL_PROTOCOLS, REPL_PROTOCOL_NAMES } from "./runtime-builtins.js";
import { enumOf, Port, Protocol } from "./runtime.js";
import { Lifecycle } from "./sandbox.js";
import { strictObject } from "./strict.js";

/** How a REPL server runs: in the foreground of its process, or in the background. */
export const ReplMode = enumOf(["Foreground", "Background"] as const).describe("Foreground or Background.");
export type ReplMode = z.infer<typeof ReplMode>;
/** Where a REPL server registers itself: `$XDG_RUNTIME_DIR/repl/<protocol>/<name>.json`, its shared variant, the service spec, or nowhere. */
export const RegistrationBackend = enumOf(["XDG", "Global", "ServiceSpec", "None"] as const).describe(
  "XDG ($XDG_RUNTIME_DIR/repl/<protocol>/<name>.json), Global ($XDG_RUNTIME_DIR/repl/<protocol>/shared/<name>.json), ServiceSpec (found through the service configuration) or None.",
);
export type RegistrationBackend = z.infer<typeof RegistrationBackend>;
/** How long a REPL server lives: the original's Lifecycle sum, the sandbox profiles' (one schema). */
export const ReplLifecycle = Lifecycle;
export type ReplLifecycle = Lifecycle;

const protocolRef = z
  // The names also appear as the JSON Schema's enum; the check below gives the error its own message.
  .union([z.string().meta({ enum: [...REPL_PROTOCOL_NAMES] }), Protocol])
  .describe(`A Protocol record, or the name of a built-in REPL protocol: ${REPL_PROTOCOL_NAMES.join(", ")}.`)
  .transform((p, ctx): Protocol => {
    if (typeof p !== "string") return p;
    const found = (REPL_PROTOCOLS as Record<string, Protocol>)[p];
    if (found === undefined) {
      ctx.issues.push({ code: "custom", input: p, message: `unknown REPL protocol '${p}'; known: ${REPL_PROTOCOL_NAMES.join(", ")} (or give a whole Protocol record)` });
      return z.NEVER;
    }
    return found;
  });

/** A REPL server: protocol, port (default the protocol's), mode, registration (default from the mode) and lifecycle. */
export const ReplServer = strictObject({
  _con: z.literal("MetaBuilderREPLServerSpec").default("MetaBuilderREPLServerSpec"),
  protocol: protocolRef,
  enable: z.boolean().default(true).describe("Whether the server is started."),
  port: Port.optional().describe("The port it listens on (1-65535); by default the protocol's defaultPort."),
  portEnvVar: z.string().min(1).optional().describe("The environment variable that sets the port; by default the protocol's portEnvVar."),
  interface: z.string().default("127.0.0.1").describe("The address it listens on."),
  mode: ReplMode,
  registration: RegistrationBackend.optional().describe("Where it registers; by default ServiceSpec in Foreground mode, XDG in Background mode."),
  lifecycle: ReplLifecycle.default("LongRunning"),
  shortLivedFlags: z.array(z.string()).default([]).describe("Command-line flags that make a run short-lived (e.g. --once)."),
  extra: z.record(z.string(), z.unknown()).default({}).describe("Free-form extra settings."),
})
  .transform((r, ctx) => {
    const port = r.port ?? r.protocol.defaultPort;
    const portEnvVar = r.portEnvVar ?? r.protocol.portEnvVar;
    if (port === null) ctx.issues.push({ code: "custom", input: r, path: ["port"], message: `port required (protocol '${r.protocol.name}' has no defaultPort)` });
    if (portEnvVar === null) ctx.issues.push({ code: "custom", input: r, path: ["portEnvVar"], message: `portEnvVar required (protocol '${r.protocol.name}' has no portEnvVar)` });
    if (port === null || portEnvVar === null) return z.NEVER;
    return { ...r, port, portEnvVar, registration: r.registration ?? (r.mode === "Foreground" ? ("ServiceSpec" as const) : ("XDG" as const)) };
  })
  .describe("A REPL server (the original's REPLServerSpec): a REPL protocol with its port, mode, registration and lifecycle.");
export type ReplServer = z.output<typeof ReplServer>;
export type ReplServerInput = z.input<typeof ReplServer>;
