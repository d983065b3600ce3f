/**
 * The sandbox ornament (the original's src/ornaments/sandbox.nix): a typed profile (src/core/sandbox.ts), its
 * constructor and public profiles, combinators, and the eliminators into bubblewrap, Landlock, seccomp and systemd.
 */
export { define, profiles } from "./profiles.js";
export * as combinators from "./combinators.js";
export { toBwrap, toLandlock, toSystemd } from "./eliminators.js";
export { allowlistText, flattenPolicy, seccompCategoriesFor, syscallSets, toSeccomp, type SeccompPolicy, type SyscallCategory } from "./seccomp.js";
export { packagePaths, serviceProfile, type ServicePlace } from "./service.js";
export { DisplayConfig, DnsConfig, LandlockProfile, Lifecycle, SandboxProfile, SeccompStage, serviceExecutable, SystemdHardening, TcpEndpoint } from "../../core/sandbox.js";
