/**
 * Profile combinators (the original's sandbox-helpers/combinators.nix): each is `{sig, doc, impl}`, a function from
 * profile to profile; `compose` applies them left to right from the empty profile, deferred ones last.
 */
import { SandboxProfile, TcpEndpoint } from "../../core/sandbox.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { define } from "./profiles.js";

/** A profile transformer with its signature and one line of documentation. */
export interface Combinator {
  readonly sig: string;
  readonly doc: string;
  readonly impl: (profile: SandboxProfile) => SandboxProfile;
  /** Set by `defer`: applied after every non-deferred combinator. */
  readonly deferred?: true;
}

/** What `compose` accepts: a combinator, or a plain profile function. */
export type CombinatorLike = Combinator | ((profile: SandboxProfile) => SandboxProfile);

const unwrap = (c: CombinatorLike) => (typeof c === "function" ? c : c.impl);
const isDeferred = (c: CombinatorLike) => typeof c !== "function" && c.deferred === true;

/** Wraps an implementation with its signature and documentation. */
export function mkCombinator(c: { sig: string; doc: string; impl: (profile: SandboxProfile) => SandboxProfile }): Combinator {
  return { sig: c.sig, doc: c.doc, impl: c.impl };
}

/** Two-pass composition from the empty profile: immediate combinators left to right, then the deferred ones; the result is validated. */
export function compose(combinators: readonly CombinatorLike[]): SandboxProfile {
  const immediate = combinators.filter((c) => !isDeferred(c));
  const deferred = combinators.filter(isDeferred);
  const profile = [...immediate, ...deferred].reduce((p, c) => unwrap(c)(p), define({}));
  return parseOrThrow(SandboxProfile, profile, "composed sandbox profile", "constructor.invalid");
}

const endpoint = (port: number): TcpEndpoint => parseOrThrow(TcpEndpoint, { port }, "tcp endpoint", "constructor.invalid");

/** Sealed base profile: the store read-only, /tmp tmpfs, no network, no exec. */
export const sealed = mkCombinator({ sig: "Profile -> Profile", doc: "Sealed base profile: read-only store, /tmp tmpfs, no network, no exec.", impl: () => define({}) });

/** Effectful base profile: allows execve and fork. */
export const effectful = mkCombinator({ sig: "Profile -> Profile", doc: "Effectful base profile: allows execve and fork.", impl: () => define({ allowExecve: true, allowFork: true }) });

/** Adds a TCP listen endpoint at 127.0.0.1:port (accumulates); a port outside 1-65535 is an error. */
export function listen(port: number): Combinator {
  const e = endpoint(port);
  return mkCombinator({ sig: "Int -> Profile -> Profile", doc: "Add a TCP listen endpoint at 127.0.0.1:port. Accumulates.", impl: (p) => ({ ...p, listenTcp: [...p.listenTcp, e] }) });
}

/** Adds a TCP connect endpoint at 127.0.0.1:port (accumulates); a port outside 1-65535 is an error. */
export function connectTo(port: number): Combinator {
  const e = endpoint(port);
  return mkCombinator({ sig: "Int -> Profile -> Profile", doc: "Add a TCP connect endpoint at 127.0.0.1:port. Accumulates.", impl: (p) => ({ ...p, connectTcp: [...p.connectTcp, e] }) });
}

/** Leaves outbound TCP connect unrestricted (listen stays restricted; Landlock TCP rules are port-based and host-blind). */
export const connectAny = mkCombinator({
  sig: "Profile -> Profile",
  doc: "Leave outbound TCP connect unrestricted; listen/bind, read-only paths, no-execve and seccomp are unaffected.",
  impl: (p) => ({ ...p, connectAny: true }),
});

/** Binds a path read-only (accumulates). */
export function readonly(path: string): Combinator {
  return mkCombinator({ sig: "Path -> Profile -> Profile", doc: "Bind-mount a path read-only. Accumulates.", impl: (p) => ({ ...p, readOnlyPaths: [...p.readOnlyPaths, path] }) });
}

/** Binds a path read-write (accumulates). */
export function readwrite(path: string): Combinator {
  return mkCombinator({ sig: "Path -> Profile -> Profile", doc: "Bind-mount a path read-write. Accumulates.", impl: (p) => ({ ...p, readWritePaths: [...p.readWritePaths, path] }) });
}

/** Allows execve: programs that spawn subprocesses need it. */
export const allowExec = mkCombinator({ sig: "Profile -> Profile", doc: "Allow execve. Required for programs that spawn subprocesses.", impl: (p) => ({ ...p, allowExecve: true }) });

/** Allows fork without exec. */
export const allowFork = mkCombinator({ sig: "Profile -> Profile", doc: "Allow fork without exec.", impl: (p) => ({ ...p, allowFork: true }) });

/** Daemon mode: bubblewrap gets neither --unshare-pid nor --die-with-parent. */
export const daemon = mkCombinator({ sig: "Profile -> Profile", doc: "Enable daemon mode — omits --die-with-parent / --unshare-pid from bwrap.", impl: (p) => ({ ...p, daemonMode: true }) });

/** Marks a combinator to run after every non-deferred one in `compose`, so it sees the accumulated profile. */
export function defer(c: CombinatorLike): Combinator {
  return { sig: "(Profile -> Profile) -> Deferred Combinator", doc: "Run after all non-deferred combinators in compose.", impl: unwrap(c), deferred: true };
}
