/** One error class for every boundary: a code, a message, the places it concerns, and the exit code the CLI maps it to. */

/** Exit codes of the `mb` CLI. */
export const ExitCode = {
  ok: 0,
  /** The view found problems: diagnostics, an undeclared tool or service, a failed build or check. */
  problems: 1,
  /** Usage errors; builders that cannot be loaded or do not match their schema. */
  usage: 2,
  /** Interrupted by a signal. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem located at a path inside a spec or file. */
export interface Issue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const BRAND = Symbol.for("metabuilder.MbError");

/**
 * The single error class thrown at boundaries; `code` is a stable machine-readable identifier. `instanceof` goes by a
 * brand, so an MbError thrown by another copy of this module (a builder importing an installed `metabuilder` while a
 * different one runs the CLI) is still one.
 */
export class MbError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly code: string;
  readonly exitCode: ExitCode;
  readonly issues: readonly Issue[];
  readonly hint: string | undefined;

  constructor(code: string, message: string, opts: { exitCode?: ExitCode; issues?: readonly Issue[]; hint?: string } = {}) {
    super(message);
    this.name = "MbError";
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.problems;
    this.issues = opts.issues ?? [];
    this.hint = opts.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** Formats a path into a spec as `operations[3].tool.name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_$][\w$-]*$/.test(s) ? (out === "" ? s : `.${s}`) : `[${JSON.stringify(s)}]`;
    }
  }
  return out === "" ? "(root)" : out;
}

/** Marks an unreachable branch of an exhaustive switch. */
export function absurd(x: never): never {
  throw new MbError("internal.unreachable", `unreachable: ${JSON.stringify(x)}`);
}
