#!/usr/bin/env node
/**
 * The `mb` command line: parses arguments, dispatches to a command, maps errors to exit codes (never a stack trace
 * unless --debug). Only light modules are imported up front; each command loads what it needs, so a cache hit of
 * `mb build` never loads zod, esbuild or the builder.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ExitCode, MbError } from "../core/errors.js";
import { processIo, quietOnClosedPipe, type Io } from "./io.js";
import { COMMAND_HELP, COMMAND_NAMES, HELP, ORNAMENT_NAMES, RECORD_NAMES, versionText } from "./help.js";
import { prewarmLoader } from "./load-isolated.js";

export { HELP, ORNAMENT_NAMES, RECORD_NAMES };

const VIEWS = new Set(["validate", "deps", "dry-run", "plan", "describe", "introspect", "export", "render", "path"]);
const BUILDING = new Set(["build", "check", "log", "store", "gc", "run", "key"]);

/** Whether a command line likely loads a module builder (a build or a view of a .ts/.js builder): its loader is started early. */
function loadsBuilder(argv: readonly string[]): boolean {
  return (argv[0] === "build" || argv[0] === "check" || VIEWS.has(argv[0] ?? "")) && !argv.some((a) => a.endsWith(".json") || a === "--help" || a === "-h");
}

function usage(message: string): MbError {
  return new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb --help` for usage" });
}

/** An unknown command, with the nearest known one (strict.ts, loaded only here: it brings zod). */
async function unknownCommand(command: string): Promise<MbError> {
  const { nearestName } = await import("../core/strict.js");
  const near = nearestName(command, COMMAND_NAMES);
  return usage(`unknown command '${command}'${near ? `; did you mean '${near}'?` : ""}`);
}

type Values = {
  json: boolean;
  format?: string;
  store?: string;
  "out-link"?: string;
  "no-out-link": boolean;
  "keep-failed": boolean;
  "no-sandbox": boolean;
  check: boolean;
  jobs?: string;
  "dry-run": boolean;
  repair: boolean;
  port?: string;
  dir?: string;
  context?: string;
  out?: string; all: boolean;
  update: boolean;
  substituter?: string[]; "trusted-key"?: string[]; key?: string;
  tag?: string[]; insecure: boolean;
};

/** Which commands accept each command-specific flag. */
const FLAG_COMMANDS: Record<string, readonly string[]> = {
  format: ["deps"],
  "out-link": ["build"],
  "no-out-link": ["build"],
  "keep-failed": ["build", "check", "push"],
  "no-sandbox": ["build", "check", "path", "render", "docs", "run", "push"],
  check: ["build"],
  jobs: ["build", "check", "run", "push"],
  port: ["run"],
  "dry-run": ["gc"],
  repair: ["store"],
  dir: ["render"],
  context: ["render"],
  out: ["docs"], all: ["docs"],
  update: ["lock"],
  substituter: ["build", "check"], "trusted-key": ["build", "check"], key: ["store"],
  tag: ["push"], insecure: ["push"],
};

function checkFlags(command: string, values: Values, view: boolean): void {
  for (const [flag, commands] of Object.entries(FLAG_COMMANDS)) {
    if (view && flag === "format") continue; // views check it once their builder argument is known
    const v = (values as Record<string, unknown>)[flag];
    if (v === undefined || v === false) continue;
    if (!commands.includes(command)) {
      const flagName = flag === "jobs" ? "-j/--jobs" : `--${flag}`;
      throw usage(`${flagName} applies to ${commands.join(" and ")} only`);
    }
  }
  if (values["out-link"] !== undefined && values["no-out-link"]) throw usage("--out-link and --no-out-link exclude each other");
  if (values["out-link"] === "") throw usage("--out-link needs a path");
}

function jobsFrom(raw: string | undefined): number {
  if (raw === undefined) return 1;
  if (!/^[1-9]\d*$/.test(raw)) throw usage(`-j needs a positive whole number, got '${raw}'`);
  return Number(raw);
}

async function runBuilding(command: string, rest: string[], values: Values, io: Io): Promise<number> {
  if (command === "store") {
    const [sub, ...more] = rest;
    if (sub === "push") return (await import("./store-push.js")).runStorePush(more, values, io);
    if (values.key !== undefined) throw usage("--key applies to store push only");
    if (sub !== "verify") throw usage(`store needs a subcommand: 'verify' or 'push'${sub ? `, got '${sub}'` : ""}`);
    if (more.length > 0) throw usage(`unexpected argument '${more[0]}'`);
    const { runStoreVerify } = await import("./store-commands.js");
    return runStoreVerify({ store: values.store, json: values.json, repair: values.repair }, io);
  }
  if (command === "gc") {
    if (rest.length > 0) throw usage(`unexpected argument '${rest[0]}'`);
    const { runGc } = await import("./store-commands.js");
    return runGc({ store: values.store, json: values.json, dryRun: values["dry-run"] }, io);
  }
  if (command === "run") return (await import("./run.js")).runRunCommand(rest, values, jobsFrom(values.jobs), io);
  if (command === "key") return (await import("./key.js")).runKey(rest, values, io);
  const [arg, ...more] = rest;
  if (arg === undefined) {
    throw usage(
      command === "log"
        ? "log needs a builder or a store path"
        : `${command} needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec`,
    );
  }
  if (more.length > 0) throw usage(`unexpected argument '${more[0]}'`);
  if (command === "log") {
    const { runLog } = await import("./store-commands.js");
    return runLog(arg, { store: values.store }, io);
  }
  const { runBuild } = await import("./build.js");
  const { runCheck } = command === "check" ? await import("./check.js") : { runCheck: null };
  const flags = {
    store: values.store,
    outLink: command === "build" && !values["no-out-link"] ? (values["out-link"] ?? "result") : null,
    keepFailed: values["keep-failed"],
    sandbox: values["no-sandbox"] ? ("none" as const) : ("bwrap" as const),
    check: values.check,
    jobs: jobsFrom(values.jobs),
    json: values.json,
    substituters: values.substituter ?? [],
    trustedKeys: values["trusted-key"] ?? [],
  };
  return runCheck ? runCheck(arg, flags, io) : runBuild(arg, flags, io);
}

/** Runs the CLI with arguments; returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let debug = argv.includes("--debug");
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: "boolean", default: false },
          format: { type: "string" },
          store: { type: "string" },
          "out-link": { type: "string" },
          "no-out-link": { type: "boolean", default: false },
          "keep-failed": { type: "boolean", default: false },
          "no-sandbox": { type: "boolean", default: false },
          check: { type: "boolean", default: false },
          jobs: { type: "string", short: "j" },
          "dry-run": { type: "boolean", default: false },
          repair: { type: "boolean", default: false },
          port: { type: "string" },
          dir: { type: "string" },
          context: { type: "string" },
          out: { type: "string" }, all: { type: "boolean", default: false },
          update: { type: "boolean", default: false },
          substituter: { type: "string", multiple: true }, "trusted-key": { type: "string", multiple: true }, key: { type: "string" },
          tag: { type: "string", multiple: true }, insecure: { type: "boolean", default: false },
          debug: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
          version: { type: "boolean", default: false },
        },
      });
    } catch (e) {
      throw usage((e as Error).message);
    }
    const { values, positionals } = parsed;
    debug = values.debug;
    const [command, ...rest] = positionals;
    if (values.version) {
      io.out(versionText());
      return ExitCode.ok;
    }
    const helpOf = command === "help" ? rest[0] : values.help ? command : undefined;
    if (helpOf !== undefined) {
      const text = COMMAND_HELP[helpOf];
      if (text === undefined) throw await unknownCommand(helpOf);
      io.out(text);
      return ExitCode.ok;
    }
    if (values.help || command === undefined || command === "help") {
      io.out(HELP);
      return command === undefined && !values.help ? ExitCode.usage : ExitCode.ok;
    }
    if (command === "schema") {
      if (rest.length > 1) throw usage("schema takes at most one ornament or record name");
      const { runSchema } = await import("./schema.js");
      const printed = await runSchema(rest[0]);
      if (printed === null) throw usage(`unknown ornament or record '${rest[0]}'; known ornaments: ${ORNAMENT_NAMES.join(", ")}; known records: ${RECORD_NAMES.join(", ")}`);
      io.out(JSON.stringify(printed, null, 2) + "\n");
      return ExitCode.ok;
    }
    if (command === "docs") {
      checkFlags(command, values as Values, false);
      return await (await import("./docs.js")).docsCommand(rest, values, io);
    }
    if (command === "lock") {
      checkFlags(command, values as Values, false);
      return await (await import("./lock.js")).runLock(rest, values, io);
    }
    if (command === "push") {
      checkFlags(command, values as Values, false);
      return await (await import("./push.js")).runPush(rest, values, io);
    }
    if (!VIEWS.has(command) && !BUILDING.has(command)) throw await unknownCommand(command);
    checkFlags(command, values as Values, VIEWS.has(command));
    if (BUILDING.has(command)) return await runBuilding(command, rest, values as Values, io);
    let builderArg: string | undefined;
    let viewArgs: string[] = [];
    if (command === "render") {
      const target = rest[0];
      if (target !== "shell" && target !== "dockerfile" && target !== "nix" && target !== "systemd") throw usage(`render needs a backend: 'shell', 'dockerfile', 'nix' or 'systemd'${target ? `, got '${target}'` : ""}`);
      if (target !== "systemd" && (values.dir !== undefined || values["no-sandbox"])) throw usage(`${values.dir !== undefined ? "--dir" : "--no-sandbox"} applies to render systemd only`);
      if (values.dir === "") throw usage("--dir needs a directory");
      viewArgs = [target];
      builderArg = rest[1];
      if (rest.length > 2) throw usage(`unexpected argument '${rest[2]}'`);
    } else {
      builderArg = rest[0];
      if (rest.length > 1) throw usage(`unexpected argument '${rest[1]}'`);
    }
    if (builderArg === undefined) throw usage(`${command} needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec`);
    if (values.format !== undefined && command !== "deps") throw usage("--format applies to deps only");
    if (values.context !== undefined) return await (await import("./render-context.js")).runRenderContext(viewArgs[0], builderArg, { ...values, context: values.context }, io);
    if (command === "path" && !values.json) {
      const { cachedRoot } = await import("./build.js");
      const { storeDirFrom } = await import("./context.js");
      const hit = cachedRoot(builderArg, storeDirFrom(values.store), false, values["no-sandbox"] ? "none" : "bwrap");
      if (hit) {
        io.out(`${hit.storePath}\n`);
        return ExitCode.ok;
      }
    }
    const { prepare } = await import("./context.js");
    const { runView } = await import("./views.js");
    const sandbox = values["no-sandbox"] ? ("none" as const) : ("bwrap" as const);
    const prepared = await prepare(builderArg, { store: values.store, sandbox, strict: command === "path", tolerantPlan: command !== "path", warn: (m) => io.err(`mb: warning: ${m}\n`) });
    return runView(command, viewArgs, prepared, { json: values.json, format: values.format, ...(values.dir === undefined ? {} : { dir: values.dir }) }, io);
  } catch (e) {
    if (e instanceof MbError) {
      io.err(`mb: error: ${e.message}\n`);
      if (e.hint) io.err(`mb: hint: ${e.hint}\n`);
      if (debug && e.stack) io.err(`${e.stack}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`mb: internal error: ${err?.message ?? String(e)}\n`);
    if (debug && err?.stack) io.err(`${err.stack}\n`);
    else io.err("mb: hint: rerun with --debug for the stack trace, and report it\n");
    return ExitCode.problems;
  }
}

// Run when executed as the `mb` binary.
const self = fileURLToPath(import.meta.url);
const invoked = process.argv[1]
  ? (() => {
      try {
        return realpathSync(process.argv[1]!);
      } catch {
        return process.argv[1]!;
      }
    })()
  : "";
if (invoked === self) {
  quietOnClosedPipe();
  if (loadsBuilder(process.argv.slice(2))) prewarmLoader();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`mb: internal error: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
