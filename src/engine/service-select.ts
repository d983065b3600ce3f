/**
 * Which service to run and where: the runnable services of a plan, the choice among them, the port (given, checked,
 * free), the endpoint and health path the runtime declarations give, and the executable in the build's entry.
 */
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import type { BuildPlan } from "../core/plan.js";
import type { Service } from "../core/spec.js";
import { isExecutableFile } from "./host.js";
import { secondsFromEnv } from "../core/env-seconds.js";

export { endpointOf, type Endpoint } from "../core/endpoint.js";

/** The services a plan materializes as units (those `mb run` can start), in unit order. */
export function runnableServices(plan: BuildPlan): Service[] {
  return plan.runtimeArtifacts.flatMap((a) => plan.declaredServices.filter((s) => s.name === a.name).slice(-1));
}

/** The one service to run: the named one, or the only one; a builder with none, an unknown name or a choice left open is a usage error. */
export function pickService(plan: BuildPlan, name: string | undefined): Service {
  const services = runnableServices(plan);
  const names = services.map((s) => `'${s.name}'`).join(", ");
  if (services.length === 0) {
    throw new MbError("run.no-service", `'${plan.name}' has no service to run (no materializeUnit of a declared service)`, {
      exitCode: ExitCode.usage,
      hint: "`mb run` starts the services a builder declares (declareService) and materializes (materializeUnit)",
    });
  }
  if (name === undefined) {
    if (services.length === 1) return services[0]!;
    throw new MbError("run.which-service", `'${plan.name}' has ${services.length} services: name one of ${names}`, { exitCode: ExitCode.usage, hint: "mb run <builder> <service>" });
  }
  const svc = services.find((s) => s.name === name);
  if (!svc) throw new MbError("run.unknown-service", `'${plan.name}' has no service '${name}'; its services: ${names}`, { exitCode: ExitCode.usage });
  return svc;
}

/** A port given on the command line: a whole number 1–65535, else a usage error. */
export function parsePort(raw: string, flag = "--port"): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new MbError("run.port", `${flag} needs a port between 1 and 65535, got '${raw}'`, { exitCode: ExitCode.usage });
  }
  return Number(raw);
}

/**
 * The executable that starts a service in its build's store entry: `bin/<service name>`, else `bin/<service name
 * without -service>`, else the only executable in `bin/`.
 */
export function serviceExecutable(storePath: string, svc: Service): string {
  const bin = join(storePath, "bin");
  const names = [svc.name, svc.name.replace(/-service$/, "")];
  for (const n of names) if (isExecutableFile(join(bin, n))) return join(bin, n);
  let all: string[] = [];
  try {
    all = readdirSync(bin).filter((f) => isExecutableFile(join(bin, f)));
  } catch {
    // no bin directory
  }
  if (all.length === 1) return join(bin, all[0]!);
  throw new MbError("run.no-executable", `service '${svc.name}': its build ${storePath} has no bin/${svc.name}, no bin/${names[1]} and ${all.length === 0 ? "no executable" : `${all.length} executables`} in bin/`, {
    exitCode: ExitCode.problems,
    hint: `install the service's start command as bin/${svc.name} in the build output`,
  });
}

/** Fails (exit 1) when something already listens on 127.0.0.1:`port`. */
export async function assertPortFree(port: number, svc: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      const why = e.code === "EADDRINUSE" ? "is already in use" : e.code === "EACCES" ? "needs privileges this user lacks" : `cannot be listened on (${e.code ?? e.message})`;
      reject(new MbError("run.port-taken", `service '${svc}': port ${port} on 127.0.0.1 ${why}`, { exitCode: ExitCode.problems, hint: "pass another port with --port P" }));
    });
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** A port nothing listens on now (the kernel's choice on 127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** How long the health check may take: `MB_HEALTH_TIMEOUT` seconds, default 30. */
export function healthTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return secondsFromEnv(env, "MB_HEALTH_TIMEOUT", 30, "usage.health-timeout", 86400);
}
