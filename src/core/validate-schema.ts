/** Parsing data against a zod schema at a boundary: every problem reported with its path, as one MbError. */
import type { z } from "zod";
import { ExitCode, MbError, formatPath, type Issue } from "./errors.js";

/** Flattens zod issues (including the branches of unions) into path + message pairs. */
export function zodIssues(error: z.ZodError, prefix: readonly (string | number)[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of error.issues) {
    // One unknown key: point at the key itself (the message names it and any near key).
    const key = issue.code === "unrecognized_keys" && issue.keys.length === 1 ? issue.keys : [];
    const path = [...prefix, ...(issue.path as (string | number)[]), ...key];
    // A record key that fails its schema: say why, not only "Invalid key in record".
    const inner = issue.code === "invalid_key" ? issue.issues.map((i) => i.message) : [];
    out.push({ path, message: inner.length > 0 ? `${issue.message}: ${inner.join("; ")}` : issue.message });
  }
  return out;
}

/**
 * Own `__proto__` keys anywhere in plain data (JSON.parse makes them). zod drops such a key from records without a
 * word, and assigning it would replace an object's prototype, so a spec may not use it: each is reported at its path.
 */
export function protoKeyIssues(value: unknown): Issue[] {
  const out: Issue[] = [];
  const seen = new WeakSet<object>();
  const path: (string | number)[] = []; // the walk's place; copied only into an issue
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    const proto = Object.getPrototypeOf(v) as unknown;
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return;
    if (Object.prototype.hasOwnProperty.call(v, "__proto__")) {
      out.push({ path: [...path, "__proto__"], message: "the key `__proto__` is not allowed (a JavaScript object cannot keep it as data)" });
    }
    for (const [k, x] of Object.entries(v)) {
      if (k === "__proto__") continue;
      path.push(Array.isArray(v) ? Number(k) : k);
      walk(x);
      path.pop();
    }
  };
  walk(value);
  return out;
}

/** Parses `value` with `schema`, or throws an MbError (exit 2) listing every problem as `path: message`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  code = "spec.invalid",
): z.output<S> {
  const protoKeys = protoKeyIssues(value);
  const result = schema.safeParse(value);
  if (result.success && protoKeys.length === 0) return result.data;
  // zod reports a `__proto__` key of a strict record as unknown: that one is said once, above.
  const issues = [...protoKeys, ...(result.success ? [] : zodIssues(result.error).filter((i) => i.path.at(-1) !== "__proto__"))];
  const lines = issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join("\n");
  throw new MbError(code, `${what} does not match its schema (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines}`, {
    exitCode: ExitCode.usage,
    issues,
  });
}
