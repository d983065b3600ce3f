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

/** Parses `value` with `schema`, or throws an MbError (exit 2) listing every problem as `path: message`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  code = "spec.invalid",
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = zodIssues(result.error);
  const lines = issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join("\n");
  throw new MbError(code, `${what} does not match its schema (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n${lines}`, {
    exitCode: ExitCode.usage,
    issues,
  });
}
