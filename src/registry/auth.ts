/**
 * Registry credentials and challenges: where a registry's credentials come from in a Docker-style auth file
 * (`credHelpers`, `auths`, `credsStore` of `~/.docker/config.json`, `REGISTRY_AUTH_FILE`, or a given file), chosen here
 * without running anything (the helper program runs in credential-helper.ts), and the `WWW-Authenticate` challenge
 * parser the bearer-token flow reads its realm, service and scope from.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { MbError, ExitCode } from "../core/errors.js";
import { canonicalRegistry, DOCKER_HUB } from "./reference.js";

/**
 * A username and password for one registry, and where they came from (a file, or a helper and the file naming it).
 * `identityToken` (a helper's `<token>` user, or an `auths` entry's `identitytoken`) is an OAuth2 refresh token: it
 * is used only in the bearer-token flow, and username and password are then empty.
 */
export interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly source: string;
  readonly identityToken?: string;
}

/** One entry of a Docker config's `auths`: base64 `auth` (`user:password`), or `username` and `password`. */
const AuthEntry = z
  .object({
    auth: z.string().optional().describe("base64 of `username:password`"),
    username: z.string().optional().describe("the user name, when `auth` is not given"),
    password: z.string().optional().describe("the password, when `auth` is not given"),
    identitytoken: z.string().optional().describe("an OAuth2 refresh token (the bearer-token flow only)"),
  })
  .describe("credentials for one registry");

/** A Docker or containers auth file; other keys of a Docker config (`psFormat`, `proxies`, …) are not read. */
export const AuthFile = z
  .object({
    auths: z.record(z.string(), AuthEntry).optional().describe("credentials by registry host"),
    credHelpers: z.record(z.string(), z.string()).optional().describe("the credential helper (suffix of docker-credential-<suffix>) by registry host"),
    credsStore: z.string().optional().describe("the credential helper for every registry without credentials in auths"),
  })
  .describe("a Docker config.json or containers auth.json");
export type AuthFile = z.infer<typeof AuthFile>;

/** What a credential helper's name (the suffix of `docker-credential-<suffix>`) must look like. */
export const HELPER_SUFFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Where one auth file says a registry's credentials are: in the file, or with a helper program to ask. */
export type CredentialSource =
  | { readonly kind: "auths"; readonly credentials: Credentials }
  | { readonly kind: "helper"; readonly helper: string; readonly file: string; readonly key: string };

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
  return canonicalRegistry(key.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
}

/** The server URL a credential helper is asked about: Docker Hub's `https://index.docker.io/v1/`, else the host. */
export function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry;
}

const usage = (file: string, message: string): MbError => new MbError("registry.auth-file", `registry auth file ${file}${message}`, { exitCode: ExitCode.usage });

/** Parses an auth file's text; not JSON of that shape, or a helper name that is not a plain word, is an error naming the file. */
export function parseAuthFile(file: string, text: string): AuthFile {
  let parsed: AuthFile;
  try {
    const result = AuthFile.safeParse(JSON.parse(text));
    if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    parsed = result.data;
  } catch (e) {
    throw usage(file, ` cannot be read: ${(e as Error).message}`);
  }
  const helpers: [string, string][] = Object.entries(parsed.credHelpers ?? {}).map(([host, h]) => [`credHelpers[${JSON.stringify(host)}]`, h]);
  if (parsed.credsStore !== undefined) helpers.push(["credsStore", parsed.credsStore]);
  for (const [key, helper] of helpers) {
    if (helper !== "" && !HELPER_SUFFIX.test(helper)) {
      throw usage(file, `: ${key} ${JSON.stringify(helper)} is not a credential helper name (letters, digits, '.', '_', '-'; the program run is docker-credential-<name>)`);
    }
  }
  return parsed;
}

/** The credentials of one `auths` entry, or null when it has none (e.g. `{}` beside a `credsStore`). */
function entryCredentials(file: string, key: string, entry: z.infer<typeof AuthEntry>): Credentials | null {
  if (entry.identitytoken !== undefined && entry.identitytoken !== "") return { username: "", password: "", source: file, identityToken: entry.identitytoken };
  if (entry.auth !== undefined && entry.auth !== "") {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon < 0) throw usage(file, `: auths["${key}"].auth is not base64 of username:password`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1), source: file };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password, source: file };
  return null;
}

/**
 * Where one parsed auth file puts `registry`'s credentials, in Docker's order: its `credHelpers` entry (that helper
 * alone decides for the host), else a usable `auths` entry, else `credsStore`; null when the file has none of these.
 */
export function credentialSourceIn(file: string, parsed: AuthFile, forRegistry: string): CredentialSource | null {
  const registry = canonicalRegistry(forRegistry);
  for (const [key, helper] of Object.entries(parsed.credHelpers ?? {})) {
    if (authKey(key) === registry && helper !== "") return { kind: "helper", helper, file, key: `credHelpers[${JSON.stringify(key)}]` };
  }
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    if (authKey(key) !== registry) continue;
    const found = entryCredentials(file, key, entry);
    if (found) return { kind: "auths", credentials: found };
  }
  if (parsed.credsStore !== undefined && parsed.credsStore !== "") return { kind: "helper", helper: parsed.credsStore, file, key: "credsStore" };
  return null;
}

/** Each auth file's source for `registry`, in the order of authFiles (files that do not exist skipped, unless given). */
export function credentialSources(registry: string, authFile: string | undefined, env: NodeJS.ProcessEnv): CredentialSource[] {
  const sources: CredentialSource[] = [];
  for (const file of authFiles(authFile, env)) {
    if (!existsSync(file)) {
      if (file === authFile) throw usage(file, " does not exist");
      continue;
    }
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw usage(file, ` cannot be read: ${(e as Error).message}`);
    }
    const source = credentialSourceIn(file, parseAuthFile(file, text), registry);
    if (source) sources.push(source);
  }
  return sources;
}

/** Asks a helper source for credentials: null when the helper has none for the registry ("credentials not found"). */
export type HelperLookup = (source: Extract<CredentialSource, { kind: "helper" }>, registry: string, env: NodeJS.ProcessEnv) => Promise<Credentials | null>;

/**
 * The credentials for `registry`: the first auth file's source that has them, a helper run through `ask` only when
 * its file is reached (a helper without credentials passes on to the next file); null is anonymous.
 */
export async function findCredentials(registry: string, authFile: string | undefined, env: NodeJS.ProcessEnv, ask: HelperLookup): Promise<Credentials | null> {
  for (const source of credentialSources(registry, authFile, env)) {
    if (source.kind === "auths") return source.credentials;
    const found = await ask(source, registry, env);
    if (found) return found;
  }
  return null;
}

/** Where credentials were looked for, for the message of a registry that wanted some: the files, and the helpers asked. */
export function lookedIn(registry: string, authFile: string | undefined, env: NodeJS.ProcessEnv): string {
  const helpers = credentialSources(registry, authFile, env).flatMap((s) => (s.kind === "helper" ? [`docker-credential-${s.helper} (${s.key} of ${s.file})`] : []));
  const files = authFiles(authFile, env).join(" or ");
  return helpers.length === 0 ? files : `${files}; ${helpers.join(" and ")} answered "credentials not found"`;
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
    refresh_token: z.string().optional().describe("a new OAuth2 refresh token replacing the one sent"),
  })
  .describe("a registry token server's response");
