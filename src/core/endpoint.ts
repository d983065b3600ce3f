/**
 * How a service is reached, from its runtime declarations: the one rule `mb run`, `mb check` and the systemd backend
 * share (which protocol is the service's endpoint, its port variable, default port and health path).
 */
import type { Protocol } from "./runtime.js";
import { capabilityNames } from "./runtime.js";
import type { Service } from "./spec.js";

/** What the runtime declarations say about reaching a service: its protocol, port variable, default port, health path. */
export interface Endpoint {
  readonly protocol: Protocol | null;
  /** The environment variable the port goes in (the protocol's `portEnvVar`), or null. */
  readonly portEnvVar: string | null;
  readonly defaultPort: number | null;
  /** The HTTP path of the lifecycle health check, or null when the service declares none. */
  readonly healthPath: string | null;
}

/**
 * The endpoint of a service: its first TCP protocol with a port variable (else its first protocol). The health check
 * is an HTTP GET of the protocol's `options.healthPath` (default `/health`) when the service provides the lifecycle
 * capability `health` over a TCP protocol.
 */
export function endpointOf(svc: Service): Endpoint {
  const protocol = svc.protocols.find((p) => p.transport === "TCP" && p.portEnvVar !== null) ?? svc.protocols[0] ?? null;
  if (!protocol) return { protocol: null, portEnvVar: null, defaultPort: null, healthPath: null };
  const health = capabilityNames(svc.capabilities).includes("health") && protocol.transport === "TCP";
  const option = protocol.options["healthPath"];
  const healthPath = health ? (typeof option === "string" && option.startsWith("/") ? option : "/health") : null;
  return { protocol, portEnvVar: protocol.portEnvVar, defaultPort: protocol.defaultPort, healthPath };
}

