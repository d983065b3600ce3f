/** The sandbox ornament's constructor (`define`) and its two public profiles (`sealed`, `effectful`), as the original's. */
import { parseOrThrow } from "../../core/validate-schema.js";
import { SandboxProfile, type SandboxProfileInput } from "../../core/sandbox.js";

/** Builds a profile from its fields (defaults filled in); a bad field is an MbError (exit 2) naming its path. */
export function define(fields: SandboxProfileInput = {}): SandboxProfile {
  return parseOrThrow(SandboxProfile, fields, "sandbox profile", "constructor.invalid");
}

/**
 * The generic public profiles: `sealed` is the empty default (no network, no exec, the store read-only, /tmp a
 * tmpfs); `effectful` adds execve and fork. Anything more specific is composed with the combinators.
 */
export const profiles: { readonly sealed: SandboxProfile; readonly effectful: SandboxProfile } = {
  sealed: define({}),
  effectful: define({ allowExecve: true, allowFork: true }),
};
