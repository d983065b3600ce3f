/**
 * The systemd backend: one service unit per materialized service of a plan. ExecStart is the service's executable in
 * the build's store path, Environment sets each protocol's port variable to its port, and the hardening directives
 * come from the service's sandbox profile (the caller passes `toSystemd ∘ serviceProfile`: backends do not import
 * ornaments). Every value goes through the quoting module's systemd functions, so no spec string can add a directive.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { endpointOf } from "../core/endpoint.js";
import type { BuildPlan } from "../core/plan.js";
import { serviceExecutable, type SystemdHardening } from "../core/sandbox.js";
import type { Service } from "../core/spec.js";
import { comment, systemdCWord, systemdPathProblem, systemdPathWord, systemdText } from "../program/quote.js";

/** Where the services run and what confines them. */
export interface SystemdOptions {
  /** The build's store path: each service's executable is `bin/<name>` in it (see `serviceExecutable`). */
  readonly storePath: string;
  /** The hardening a service runs under, given its port (the CLI passes `toSystemd(serviceProfile(...))`). */
  readonly hardening: (service: Service, port: number | undefined) => SystemdHardening;
}

/** One rendered unit: its file name (`<unit>.service`) and its text. */
export interface SystemdUnit {
  readonly file: string;
  readonly service: string;
  readonly text: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SYSCALL_ENTRY = /^~?@?[a-z0-9_-]+$/;

function fail(message: string): never {
  throw new MbError("backend.systemd", `systemd backend: ${message}`, { exitCode: ExitCode.usage });
}

/** The unit file name of a service: its name with bytes outside `[A-Za-z0-9:_.-]` written `\xNN` (as systemd-escape does), plus `.service`. */
export function unitFileName(service: string): string {
  if (service === "") fail("a service without a name has no unit name");
  const bytes = new TextEncoder().encode(service);
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9:_.-]/.test(c) && !(out === "" && c === ".") ? c : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  const file = `${out}.service`;
  if (file.length > 255) fail(`the unit name of service ${JSON.stringify(service)} is longer than 255 characters`);
  return file;
}

/** The port a service listens on: its endpoint's default port (the rule `mb run` and `mb check` use, core/endpoint.ts). */
export function servicePort(service: Service): number | undefined {
  return endpointOf(service).defaultPort ?? undefined;
}

/**
 * The environment of a service: its endpoint's port variable set to its port (as `mb run` sets it), then each other
 * protocol's port variable to that protocol's port (the first protocol naming a variable wins).
 */
export function serviceEnvironment(service: Service): [string, string][] {
  const env = new Map<string, string>();
  const endpoint = endpointOf(service).protocol;
  for (const p of endpoint === null ? service.protocols : [endpoint, ...service.protocols.filter((q) => q !== endpoint)]) {
    if (p.portEnvVar === null || p.defaultPort === null || env.has(p.portEnvVar)) continue;
    if (!ENV_NAME.test(p.portEnvVar)) fail(`protocol '${p.name}' of service ${JSON.stringify(service.name)}: port variable ${JSON.stringify(p.portEnvVar)} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)`);
    env.set(p.portEnvVar, String(p.defaultPort));
  }
  return [...env];
}

const yes = (b: boolean) => (b ? "yes" : "no");

function pathWords(paths: readonly string[], setting: string): string {
  for (const p of paths) {
    const problem = systemdPathProblem(p, `${setting} path`);
    if (problem) fail(problem);
  }
  return paths.map(systemdPathWord).join(" ");
}

/** The text of one service's unit. */
export function renderUnit(service: Service, opts: SystemdOptions): string {
  const exec = serviceExecutable(service, opts.storePath);
  const problem = systemdPathProblem(exec, "executable");
  if (problem) fail(`service ${JSON.stringify(service.name)}: ${problem}`);
  const port = servicePort(service);
  const h = opts.hardening(service, port);
  for (const e of h.systemCallFilter) if (!SYSCALL_ENTRY.test(e)) fail(`system call filter entry ${JSON.stringify(e)} is not a syscall or @set name`);
  const lines = [
    "[Unit]",
    `Description=${systemdText(service.description === "" ? service.name : service.description)}`,
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${systemdPathWord(exec)}`,
    ...serviceEnvironment(service).map(([k, v]) => `Environment=${systemdCWord(`${k}=${v}`)}`),
    `ProtectSystem=${h.protectSystem}`,
    `ProtectHome=${yes(h.protectHome)}`,
    `PrivateTmp=${yes(h.privateTmp)}`,
    `PrivateDevices=${yes(h.privateDevices)}`,
    `NoNewPrivileges=${yes(h.noNewPrivileges)}`,
    `RestrictNamespaces=${yes(h.restrictNamespaces)}`,
    ...(h.readOnlyPaths.length > 0 ? [`ReadOnlyPaths=${pathWords(h.readOnlyPaths, "ReadOnlyPaths")}`] : []),
    ...(h.readWritePaths.length > 0 ? [`ReadWritePaths=${pathWords(h.readWritePaths, "ReadWritePaths")}`] : []),
    ...h.systemCallFilter.map((e) => `SystemCallFilter=${e}`),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ];
  return lines.join("\n") + "\n";
}

/** Renders a unit for each materialized service of the plan (in materializeUnit order); none is an error (exit 1). */
export function renderSystemd(plan: BuildPlan, opts: SystemdOptions): SystemdUnit[] {
  const services = new Map(plan.declaredServices.map((s) => [s.name, s]));
  const units = plan.runtimeArtifacts.filter((a) => a.kind === "service").map((a) => services.get(a.name)!);
  if (units.length === 0) {
    throw new MbError("backend.unsupported", `systemd backend: plan '${plan.name}' materializes no service (a materializeUnit of a declared service makes one)`, { exitCode: ExitCode.problems });
  }
  const seen = new Set<string>();
  return units.flatMap((service) => {
    const file = unitFileName(service.name);
    if (seen.has(file)) return [];
    seen.add(file);
    return [{ file, service: service.name, text: renderUnit(service, opts) }];
  });
}

/** All units as one text: each preceded by a `# <unit>.service` line (a comment, so each part is still a valid unit file). */
export function joinUnits(units: readonly SystemdUnit[]): string {
  return units.map((u) => `${comment(u.file)}\n${u.text}`).join("\n");
}
