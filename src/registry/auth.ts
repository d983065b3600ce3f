/**
 * Registry credentials and challenges: basic credentials from a Docker-style auth file (`auths` of
 * `~/.docker/config.json`, `REGISTRY_AUTH_FILE`, or a given file), and the `WWW-Authenticate` challenge parser the
 * bearer-token flow reads its realm, service and scope from.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { MbError, ExitCode } from "../core/errors.js";
import { DOCKER_HUB } from "./reference.js";

/** A username and password for one registry, and the file they came from. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly source: string;
}

/** One entry of a Docker config's `auths`: base64 `auth` (`user:password`), or `username` and `password`. */
const AuthEntry = z
  .object({
    auth: z.string().optional().describe("base64 of `username:password`"),
    username: z.string().optional().describe("the user name, when `auth` is not given"),
    password: z.string().optional().describe("the password, when `auth` is not given"),
  })
  .describe("credentials for one registry");

/** A Docker or containers auth file; only `auths` is read (credential helpers are not run). */
export const AuthFile = z
  .object({ auths: z.record(z.string(), AuthEntry).optional().describe("credentials by registry host") })
  .describe("a Docker config.json or containers auth.json");

/** The auth files looked at, first found first: `authFile`, `$REGISTRY_AUTH_FILE`, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function authFiles(authFile: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (authFile !== undefined) return [authFile];
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  const home = env.HOME ?? homedir();
  files.push(join(env.DOCKER_CONFIG ?? join(home, ".docker"), "config.json"));
  return files;
}

/** The `auths` key of a registry: the host and port, with Docker Hub's historical names also accepted. */
function authKey(key: string): string {
  const host = key.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** Reads one auth file's credentials for `registry`; a file that is not JSON of that shape is an error naming it. */
function credentialsIn(file: string, registry: string): Credentials | null {
  let parsed: z.infer<typeof AuthFile>;
  try {
    const result = AuthFile.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    parsed = result.data;
  } catch (e) {
    throw new MbError("registry.auth-file", `registry auth file ${file} cannot be read: ${(e as Error).message}`, { exitCode: ExitCode.usage });
  }
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    if (authKey(key) !== registry) continue;
    if (entry.auth !== undefined && entry.auth !== "") {
      const text = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = text.indexOf(":");
      if (colon < 0) throw new MbError("registry.auth-file", `registry auth file ${file}: auths["${key}"].auth is not base64 of username:password`, { exitCode: ExitCode.usage });
      return { username: text.slice(0, colon), password: text.slice(colon + 1), source: file };
    }
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password, source: file };
  }
  return null;
}

/** The credentials for `registry` from the first auth file that has them, or null (anonymous). */
export function findCredentials(registry: string, authFile: string | undefined, env: NodeJS.ProcessEnv): Credentials | null {
  const files = authFiles(authFile, env);
  for (const file of files) {
    if (!existsSync(file)) {
      if (file === authFile) throw new MbError("registry.auth-file", `registry auth file ${file} does not exist`, { exitCode: ExitCode.usage });
      continue;
    }
    const found = credentialsIn(file, registry);
    if (found) return found;
  }
  return null;
}

/** A parsed `WWW-Authenticate` challenge: its scheme (lowercase) and parameters. */
export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses the first challenge of a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"`). */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  re.lastIndex = 0;
  let p: RegExpExecArray | null;
  while ((p = re.exec(rest)) !== null && p[0] !== "") params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The `Authorization` header value of basic credentials. */
export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}

/** A token endpoint's answer (`token` or, OAuth-style, `access_token`). */
export const TokenResponse = z
  .object({
    token: z.string().optional().describe("the bearer token"),
    access_token: z.string().optional().describe("the bearer token (OAuth 2 name)"),
    expires_in: z.number().optional().describe("seconds the token is valid"),
  })
  .describe("a registry token server's response");
