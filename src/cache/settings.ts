/**
 * The binary-cache settings of a build: substituters from `--substituter` (else `MB_SUBSTITUTERS`, space-separated),
 * trusted keys from `--trusted-key` (else `MB_TRUSTED_KEYS`: files or `<name>:<base64>` texts), the timeout from
 * `MB_SUBSTITUTER_TIMEOUT` (seconds, default 5). Substituters without a trusted key are a usage error (exit 2).
 * Light on purpose (no zod, no client): a cache hit checks the settings without loading the cache.
 */
import { ExitCode, MbError } from "../core/errors.js";
import { parseReference } from "../registry/reference.js";
import { readPublicKey, type PublicKey } from "./keys.js";
import { secondsFromEnv } from "../core/env-seconds.js";

/** What substitution needs: the caches in order, the keys entries must be signed by, how long a cache may take. */
export interface CacheSettings {
  readonly urls: readonly string[];
  readonly trusted: readonly PublicKey[];
  readonly timeoutMs: number;
}

const words = (v: string | undefined) => (v ?? "").split(/\s+/).filter((w) => w !== "");

/** Parses `docker://host[:port]/repo` (no tag, no digest: entries are tagged by their store hash); a bad one is exit 2. */
export function parseCacheUrl(url: string): { registry: string; repository: string } {
  const ref = parseReference(url);
  const last = url.slice(url.lastIndexOf("/") + 1);
  if (ref.digest !== undefined || last.includes(":") || last.includes("@")) {
    throw new MbError("cache.url", `'${url}' names a tag or digest; a binary cache is a repository: docker://host[:port]/repo`, { exitCode: ExitCode.usage });
  }
  return { registry: ref.registry, repository: ref.repository };
}

/** The cache settings of a build, checked (exit 2 when wrong), or null when no substituter is configured. */
export function cacheSettings(flags: { substituters?: readonly string[]; trustedKeys?: readonly string[] }, env: NodeJS.ProcessEnv = process.env): CacheSettings | null {
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
  const timeoutMs = secondsFromEnv(env, "MB_SUBSTITUTER_TIMEOUT", 5, "cache.timeout");
  return { urls, trusted: keys.map(readPublicKey), timeoutMs };
}
