/**
 * The records `mb schema <name>` prints, by the name the CLI accepts: one table (adding a record is one line here).
 * Entries load their schema lazily, so that listing the names (the CLI's help) loads neither zod nor the records.
 */
import type { z } from "zod";

/** A record the CLI can print the JSON Schema of: its CLI name, one line saying what it is, and its schema's loader. */
export interface RecordSchemaEntry {
  readonly name: string;
  readonly description: string;
  load(): Promise<z.ZodType>;
}

const entry = (name: string, description: string, load: () => Promise<z.ZodType>): RecordSchemaEntry => ({ name, description, load });

/** Every runtime record with a printable JSON Schema, by CLI name. */
export const RECORD_SCHEMAS: readonly RecordSchemaEntry[] = [
  entry("param", "a parameter of a capability or of a service's configuration", async () => (await import("./runtime.js")).Param),
  entry("capability", "a named operation a service offers", async () => (await import("./runtime.js")).Capability),
  entry("capability-category", "a named group of capabilities", async () => (await import("./runtime.js")).CapabilityCategory),
  entry("capability-set", "categories plus custom capabilities", async () => (await import("./runtime.js")).CapabilitySet),
  entry("protocol", "a wire protocol: transport, serialization, port, capabilities", async () => (await import("./runtime.js")).Protocol),
  entry("service", "a package offering capabilities over protocols", async () => (await import("./spec.js")).Service),
  entry("repl-server", "a REPL server: protocol, port, mode, registration, lifecycle", async () => (await import("./repl.js")).ReplServer),
  entry("tool-env", "a tool environment: a typed list of tools", async () => (await import("./tooling.js")).ToolEnv),
  entry("transform-step", "one step of a transform pipeline", async () => (await import("./tooling.js")).TransformStep),
  entry("sandbox-profile", "a sandbox profile: paths, ports, exec/fork, daemon mode", async () => (await import("./sandbox.js")).SandboxProfile),
  entry("tcp-endpoint", "a TCP address and port a sandbox listens on or connects to", async () => (await import("./sandbox.js")).TcpEndpoint),
  entry("display-config", "the display a sandbox may reach", async () => (await import("./sandbox.js")).DisplayConfig),
  entry("dns-config", "the name resolution files a sandbox sees", async () => (await import("./sandbox.js")).DnsConfig),
  entry("landlock-profile", "a Landlock ruleset derived from a sandbox profile", async () => (await import("./sandbox.js")).LandlockProfile),
  entry("systemd-hardening", "systemd hardening options derived from a sandbox profile", async () => (await import("./sandbox.js")).SystemdHardening),
];

/** The record entry named `name`, or undefined. */
export function findRecordSchema(name: string): RecordSchemaEntry | undefined {
  return RECORD_SCHEMAS.find((e) => e.name === name);
}
