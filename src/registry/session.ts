/**
 * One registry's HTTP session over Node's fetch: the transport rule (https unless loopback or insecure), retries with
 * backoff on 5xx and connection resets (never on 4xx), and authentication — anonymous, basic from an auth file or a
 * credential helper, or the bearer-token realm flow (an identity token by OAuth2 refresh-token grant) with tokens
 * cached per scope. Failures become MbErrors naming the reference.
 */
import { MbError, ExitCode } from "../core/errors.js";
import { basicHeader, findCredentials, lookedIn, parseChallenge, TokenResponse, type Credentials } from "./auth.js";
import { helperCredentials } from "./credential-helper.js";
import { registryBaseUrl } from "./reference.js";

/** How a registry is reached; every field has a default. */
export interface RegistryOptions {
  /** Allow plain HTTP to a host that is not loopback (loopback hosts always use HTTP). */
  readonly insecure?: boolean;
  /** The auth file to read credentials from, instead of `$REGISTRY_AUTH_FILE` and `~/.docker/config.json`. */
  readonly authFile?: string;
  /** How many times a request is retried after a 5xx answer or a connection reset (default 3). */
  readonly retries?: number;
  /** The first retry's delay in milliseconds, doubled at each retry (default 250). */
  readonly backoffMs?: number;
  /** Told of every retry, with why. */
  readonly warn?: (message: string) => void;
  /** The environment auth files are found from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Blobs above this many bytes are uploaded in chunks of this size (default 16 MiB). */
  readonly chunkSize?: number;
}

/** One request: what it is about (for messages), the token scopes it needs, and what it sends. */
export interface RequestSpec {
  readonly what: string;
  readonly scopes: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** The body, made afresh for every attempt. */
  readonly body?: () => Uint8Array;
}

const RETRIED_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

function causeCode(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  return typeof cause?.code === "string" ? cause.code : "";
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: { message?: unknown } }).cause;
  return typeof cause?.message === "string" ? cause.message : (e as Error).message;
}

/** The message of a registry's JSON error body (`{"errors":[{"code","message"}]}`), or the body's first line. */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length > 0) return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch {
    // not JSON: the raw text below
  }
  return text.split("\n")[0]!.slice(0, 200);
}

/** An HTTP session with one registry; made by RegistryClient. */
export class RegistrySession {
  readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private mode: "anonymous" | "basic" | "bearer" = "anonymous";
  private challenge: Readonly<Record<string, string>> = {};
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private credentials: Promise<Credentials | null> | undefined;
  /** The refresh token the token server last gave, replacing the identity token's. */
  private refreshToken: string | undefined;

  constructor(
    readonly registry: string,
    readonly options: RegistryOptions = {},
  ) {
    this.base = registryBaseUrl(registry, options.insecure);
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 250;
    this.env = options.env ?? process.env;
  }

  /** The credentials for this registry, looked up once (auth files, credential helpers), when first needed. */
  private creds(): Promise<Credentials | null> {
    if (this.credentials === undefined) this.credentials = findCredentials(this.registry, this.options.authFile, this.env, helperCredentials);
    return this.credentials;
  }

  /** Sends one request with retries on 5xx and connection resets; an unreachable registry is an MbError. */
  async send(url: string, init: RequestInit, body: (() => Uint8Array) | undefined, what: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { ...init, ...(body ? { body: body() as Uint8Array<ArrayBuffer> } : {}) });
      } catch (e) {
        const code = causeCode(e);
        if (RETRIED_CODES.has(code) && attempt < this.retries) {
          await this.pause(attempt, `${init.method} ${url}: ${code}`);
          continue;
        }
        throw new MbError("registry.unreachable", `cannot reach registry ${this.registry} (${what}): ${causeText(e)}`, {
          hint: this.base.startsWith("https:") ? "a registry without TLS needs --insecure (loopback hosts use plain HTTP already)" : undefined,
        });
      }
      if (res.status >= 500 && attempt < this.retries) {
        await res.body?.cancel();
        await this.pause(attempt, `${init.method} ${url}: HTTP ${res.status}`);
        continue;
      }
      return res;
    }
  }

  private async pause(attempt: number, why: string): Promise<void> {
    const ms = this.backoffMs * 2 ** attempt;
    this.options.warn?.(`registry ${this.registry}: ${why}; retrying in ${ms} ms (${attempt + 1}/${this.retries})`);
    await new Promise((r) => setTimeout(r, ms));
  }

  /** The Authorization header for a request needing `scopes`, fetching a bearer token when none is cached. */
  private async authorization(scopes: readonly string[], what: string): Promise<string | undefined> {
    if (this.mode === "basic") {
      const c = await this.creds();
      if (c?.identityToken !== undefined) {
        throw new MbError("registry.auth", `registry ${this.registry} asks for basic authentication (${what}), but the credentials from ${c.source} are an identity token ('<token>'), which mb uses only in the bearer-token (OAuth2) flow`);
      }
      return c ? basicHeader(c) : undefined;
    }
    if (this.mode !== "bearer") return undefined;
    const key = [...scopes].sort().join(" ");
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(scopes, what);
    return `Bearer ${token}`;
  }

  /** The bearer-token flow: asks the challenge's realm for a token for `scopes`, with basic credentials when known. */
  private async fetchToken(scopes: readonly string[], what: string): Promise<string> {
    const realm = this.challenge.realm;
    if (!realm) throw new MbError("registry.auth", `registry ${this.registry} asked for a bearer token without a realm (${what})`);
    const url = new URL(realm);
    const c = await this.creds();
    let res: Response;
    if (c?.identityToken !== undefined) {
      // As docker: an identity token is an OAuth2 refresh token, POSTed as a form to the realm.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.refreshToken ?? c.identityToken, client_id: "metabuilder", scope: scopes.join(" ") });
      if (this.challenge.service) form.set("service", this.challenge.service);
      const body = new TextEncoder().encode(form.toString());
      res = await this.send(url.toString(), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } }, () => body, what);
    } else {
      if (this.challenge.service) url.searchParams.set("service", this.challenge.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      res = await this.send(url.toString(), { method: "GET", headers: c ? { authorization: basicHeader(c) } : {} }, undefined, what);
    }
    // an OAuth2 server refuses a bad refresh token with 400 (invalid_grant)
    if (res.status === 401 || res.status === 403 || (res.status === 400 && c?.identityToken !== undefined)) throw await this.denied(what, `the token server ${url.origin} refused`, await errorText(res));
    if (!res.ok) throw new MbError("registry.auth", `registry ${this.registry}: the token server ${url.origin} answered HTTP ${res.status} (${what}): ${await errorText(res)}`);
    const parsed = TokenResponse.safeParse(await res.json().catch(() => null));
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!token) throw new MbError("registry.auth", `registry ${this.registry}: the token server ${url.origin} gave no token (${what})`);
    if (parsed.success && parsed.data.refresh_token) this.refreshToken = parsed.data.refresh_token;
    const seconds = (parsed.success ? parsed.data.expires_in : undefined) ?? 60;
    this.tokens.set([...scopes].sort().join(" "), { token, expires: Date.now() + Math.max(seconds - 10, 5) * 1000 });
    return token;
  }

  /** The error for credentials refused (or missing where needed), naming the reference and where they came from. */
  private async denied(what: string, who: string, detail: string): Promise<MbError> {
    const c = await this.creds();
    const from = c
      ? c.identityToken !== undefined
        ? `the identity token from ${c.source} was refused (expired?)`
        : `the credentials of user '${c.username}' from ${c.source} were refused (wrong username or password?)`
      : `no credentials for ${this.registry} were found in ${lookedIn(this.registry, this.options.authFile, this.env)}`;
    return new MbError("registry.auth", `authentication to registry ${this.registry} failed for ${what}: ${who}; ${from}${detail ? ` (${detail})` : ""}`, {
      hint: c ? undefined : `log in (e.g. \`podman login ${this.registry}\` or an \`auths\` entry in a Docker config.json)`,
    });
  }

  /**
   * Sends an authenticated request to `pathOrUrl` (relative to the registry's base URL). A 401 answer starts the
   * challenge's flow once (basic or bearer); a 401 after it is an MbError naming the reference and the credentials.
   */
  async request(method: string, pathOrUrl: string, spec: RequestSpec): Promise<Response> {
    const url = new URL(pathOrUrl, this.base).toString();
    for (let round = 0; ; round++) {
      const headers: Record<string, string> = { ...spec.headers };
      const auth = await this.authorization(spec.scopes, spec.what);
      if (auth) headers.authorization = auth;
      const res = await this.send(url, { method, headers, redirect: "follow" }, spec.body, spec.what);
      if (res.status !== 401) return res;
      const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
      const detail = await errorText(res);
      if (round > 0) throw await this.denied(spec.what, `the registry answered 401${this.mode === "bearer" ? " to the token" : ""}`, detail);
      if (challenge?.scheme === "bearer") {
        this.mode = "bearer";
        this.challenge = challenge.params;
        this.tokens.clear();
      } else if (challenge?.scheme === "basic") {
        this.mode = "basic";
        if (!(await this.creds())) throw await this.denied(spec.what, "the registry requires basic authentication", detail);
      } else throw await this.denied(spec.what, "the registry answered 401 with no challenge this client knows", detail);
    }
  }
}

/** An MbError for an unexpected HTTP answer, naming the reference. */
export async function httpError(res: Response, what: string, doing: string): Promise<MbError> {
  const detail = await errorText(res);
  const notFound = res.status === 404;
  return new MbError(notFound ? "registry.not-found" : "registry.http", `registry: ${doing} ${what}: HTTP ${res.status}${detail ? ` (${detail})` : ""}`, {
    exitCode: ExitCode.problems,
  });
}
