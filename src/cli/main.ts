#!/usr/bin/env node
/** The `mb` command line: parses arguments, dispatches to a command, maps errors to exit codes (never a stack trace unless --debug). */
import { parseArgs } from "node:util";
import { z } from "zod";
import { ExitCode, MbError, formatPath } from "../core/errors.js";
import { BuilderSpec } from "../core/spec.js";
import { ornaments } from "../ornaments/registry.js";
import { prepare } from "./context.js";
import { processIo, type Io } from "./io.js";
import { runView } from "./views.js";

/** The usage text. */
export const HELP = `mb - metabuilder: typed builds, many views

Usage: mb <command> [options] <builder>

Views (pure; nothing is built):
  validate <builder>            check the program; exit 1 on diagnostics
  deps <builder>                dependency graph (--format text|json|dot|mermaid)
  dry-run <builder>             what each operation would do
  plan <builder>                the plan: every step rendered as the shell that runs
  describe <builder>            self-documentation (markdown)
  introspect <builder>          every view at once (markdown)
  export <builder>              the plan as JSON for other programs
  render <shell|dockerfile> <builder>
                                the plan as a standalone bash script or a Dockerfile
  path <builder>                the store path the build will have
  schema [ornament]             JSON Schema of BuilderSpec, or of an ornament (${Object.keys(ornaments).join(", ")})

<builder> is a .ts/.js module (default export, or file#name), a directory holding builder.ts, or a .json spec.

Options:
  --json          print the view's data as JSON
  --format F      deps output format
  --store DIR     store directory (default $MB_STORE, else $XDG_CACHE_HOME/metabuilder/store)
  --debug         show stack traces
  -h, --help      this text

Exit codes: 0 fine; 1 the view found problems (diagnostics, an undeclared tool or service, a missing package);
2 usage errors and builders that cannot be loaded or do not match their schema; 130 interrupted.
`;

const VIEWS = new Set(["validate", "deps", "dry-run", "plan", "describe", "introspect", "export", "render", "path"]);

function usage(message: string): MbError {
  return new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb --help` for usage" });
}

/** True for metabuilder errors, also when thrown by another copy of the package (a builder's own install). */
export function isMbError(e: unknown): e is MbError {
  return e instanceof MbError || (e instanceof Error && e.name === "MbError" && typeof (e as MbError).code === "string");
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
          debug: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
    } catch (e) {
      throw usage((e as Error).message);
    }
    const { values, positionals } = parsed;
    debug = values.debug;
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === "help") {
      io.out(HELP);
      return command === undefined && !values.help ? ExitCode.usage : ExitCode.ok;
    }
    if (command === "schema") {
      if (rest.length > 1) throw usage("schema takes at most one ornament name");
      const name = rest[0];
      if (name === undefined) {
        io.out(JSON.stringify(z.toJSONSchema(BuilderSpec, { io: "input", unrepresentable: "any" }), null, 2) + "\n");
        return ExitCode.ok;
      }
      const orn = ornaments[name];
      if (!orn) throw usage(`unknown ornament '${name}'; known: ${Object.keys(ornaments).join(", ")}`);
      io.out(JSON.stringify(orn.jsonSchema(), null, 2) + "\n");
      return ExitCode.ok;
    }
    if (!VIEWS.has(command)) throw usage(`unknown command '${command}'`);
    let builderArg: string | undefined;
    let viewArgs: string[] = [];
    if (command === "render") {
      const target = rest[0];
      if (target !== "shell" && target !== "dockerfile") throw usage(`render needs a backend: 'shell' or 'dockerfile'${target ? `, got '${target}'` : ""}`);
      viewArgs = [target];
      builderArg = rest[1];
      if (rest.length > 2) throw usage(`unexpected argument '${rest[2]}'`);
    } else {
      builderArg = rest[0];
      if (rest.length > 1) throw usage(`unexpected argument '${rest[1]}'`);
    }
    if (builderArg === undefined) throw usage(`${command} needs a builder: a .ts/.js module, a directory holding builder.ts, or a .json spec`);
    if (values.format !== undefined && command !== "deps") throw usage("--format applies to deps only");
    const prepared = await prepare(builderArg, { store: values.store, strict: command === "path", warn: (m) => io.err(`mb: warning: ${m}\n`) });
    return runView(command, viewArgs, prepared, { json: values.json, format: values.format }, io);
  } catch (e) {
    if (isMbError(e)) {
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
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
const self = fileURLToPath(import.meta.url);
const invoked = process.argv[1] ? (() => { try { return realpathSync(process.argv[1]!); } catch { return process.argv[1]!; } })() : "";
if (invoked === self) {
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
void formatPath;
