/**
 * The binary-cache settings of a build: substituters from `--substituter` (else `MB_SUBSTITUTERS`, space-separated),
 * trusted keys from `--trusted-key` (else `MB_TRUSTED_KEYS`: files or `<name>:<base64>` texts), the timeout from
 * `MB_SUBSTITUTER_TIMEOUT` (seconds, default 5). Substituters without a trusted key are a usage error (exit 2).
 */
import { ExitCode, MbError } from "../core/errors.js";
import type { Substituter } from "../engine/options.js";
import { readPublicKey } from "./keys.js";
import { CacheSubstituter } from "./substitute.js";
import { parseCacheUrl } from "./remote.js";

const words = (v: string | undefined) => (v ?? "").split(/\s+/).filter((w) => w !== "");

/** The substituter a build uses, or null when none is configured. */
export function substituterFrom(flags: { substituters?: readonly string[]; trustedKeys?: readonly string[] }, env: NodeJS.ProcessEnv = process.env): Substituter | null {
  const urls = flags.substituters && flags.substituters.length > 0 ? [...flags.substituters] : words(env.MB_SUBSTITUTERS);
  const keys = flags.trustedKeys && flags.trustedKeys.length > 0 ? [...flags.trustedKeys] : words(env.MB_TRUSTED_KEYS);
  if (urls.length === 0) return null;
  for (const u of urls) parseCacheUrl(u);
  if (keys.length === 0) {
    throw new MbError("cache.untrusted", "a substituter is given but no trusted key: entries are used only when signed by a trusted key", {
      exitCode: ExitCode.usage,
      hint: "pass --trusted-key K.pub (or set MB_TRUSTED_KEYS), the public half of the key the cache was pushed with",
    });
  }
  const raw = env.MB_SUBSTITUTER_TIMEOUT;
  if (raw !== undefined && raw !== "" && !/^\d+(\.\d+)?$/.test(raw)) {
    throw new MbError("cache.timeout", `MB_SUBSTITUTER_TIMEOUT must be a number of seconds, got '${raw}'`, { exitCode: ExitCode.usage });
  }
  const timeoutMs = raw ? Math.max(1, Math.round(Number(raw) * 1000)) : 5000;
  return new CacheSubstituter({ urls, trusted: keys.map(readPublicKey), timeoutMs });
}
