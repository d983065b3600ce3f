// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on a free loopback port, with its storage
// in a temporary directory, anonymous, behind htpasswd basic auth (bcrypt made by perl's crypt, i.e. libxcrypt: no
// apache2-utils needed), or behind `auth: token` with a small token server of the tests that signs RS256 JWTs with a
// key and certificate made by openssl (which also grants OAuth2 refresh-token POSTs, as for docker's identity
// tokens). stop() ends the processes and removes the directory.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The registry binary of Debian's docker-registry package. */
export const DOCKER_REGISTRY = "/usr/bin/docker-registry";

/** How the registry authenticates. */
export type RegistryAuth = "none" | "htpasswd" | "token";

/** A running test registry. */
export interface TestRegistry {
  /** `127.0.0.1:PORT`, for `docker://127.0.0.1:PORT/repo:tag`. */
  readonly host: string;
  /** The user and password it accepts (htpasswd and token modes). */
  readonly username?: string;
  readonly password?: string;
  /** The registry's storage directory (to corrupt a blob, or look at what was written). */
  readonly storage: string;
  /** The registry's own log so far (stdout and stderr). */
  log(): string;
  /** The requests the registry answered so far, from its access log: `METHOD /path STATUS`. */
  requests(): string[];
  /** How many tokens the token server issued (token mode). */
  tokensIssued(): number;
  /** The OAuth2 refresh token (an identity token) the token server accepts in a `grant_type=refresh_token` POST. */
  readonly refreshToken?: string;
  /** Writes a Docker config.json with this registry's credentials into `dir`, returning its path. */
  writeAuthFile(dir: string, password?: string): string;
  stop(): Promise<void>;
}

/** A port free on 127.0.0.1 now (the OS picks it). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === "string") throw new Error("no free port");
  return addr.port;
}

/** A bcrypt hash of `password` (perl's crypt with a `$2b$` salt; libxcrypt implements bcrypt). */
function bcrypt(password: string): string {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const salt = [...randomBytes(22)].map((b) => alphabet[b % 64]).join("");
  const r = spawnSync("perl", ["-e", "print crypt($ENV{MB_PW}, $ENV{MB_SALT})"], { env: { ...process.env, MB_PW: password, MB_SALT: `$2b$05$${salt}` }, encoding: "utf8" });
  if (r.error) throw new Error(`perl is needed to make the htpasswd bcrypt hash: ${r.error.message}`);
  if (!r.stdout.startsWith("$2b$05$")) throw new Error(`perl's crypt (libxcrypt) made no bcrypt hash: '${r.stdout}' ${r.stderr}`);
  return r.stdout;
}

/** libtrust's key id of a public key (what distribution matches a JWT's `kid` against): base32 of sha256(SPKI)[:30]. */
function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  const text = bits.match(/.{5}/g)!.map((c) => alphabet[parseInt(c, 2)]).join("");
  return text.match(/.{4}/g)!.join(":");
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString("base64url");

/**
 * A token server for `auth: token`: checks basic credentials (GET) or an OAuth2 refresh token (a form POST with
 * `grant_type=refresh_token`, answered with `access_token`), and signs a JWT granting every requested scope.
 */
async function startTokenServer(dir: string, username: string, password: string, refreshToken: string): Promise<{ server: Server; realm: string; certFile: string; issued: () => number }> {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=mb-test-token"], { encoding: "utf8" });
  if (r.error || r.status !== 0) throw new Error(`openssl is needed to make the token server's certificate: ${r.error?.message ?? r.stderr}`);
  const key = createPrivateKey(readFileSync(keyFile));
  const kid = libtrustKeyId(createPublicKey(key).export({ type: "spki", format: "der" }));
  let issued = 0;
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const jwt = (params: URLSearchParams): string => {
    const access = params.getAll("scope").flatMap((s) => s.split(" ")).map((s) => {
      const parts = s.split(":");
      return { type: parts[0], name: parts.slice(1, -1).join(":"), actions: parts[parts.length - 1]!.split(",") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", kid }));
    const claims = { iss: "mb-test-issuer", sub: username, aud: params.get("service"), exp: now + 600, nbf: now - 60, iat: now, jti: randomBytes(8).toString("hex"), access };
    const body = `${header}.${b64url(JSON.stringify(claims))}`;
    issued++;
    return `${body}.${b64url(sign("sha256", Buffer.from(body), key))}`;
  };
  const server = createServer((req, res) => {
    if (req.method === "POST") {
      let text = "";
      req.on("data", (d: Buffer) => (text += d.toString()));
      req.on("end", () => {
        const form = new URLSearchParams(text);
        if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== refreshToken || !form.get("client_id")) {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "invalid_grant", error_description: "unknown refresh token" }));
          return;
        }
        // OAuth2: scopes space-separated in one form field
        const params = new URLSearchParams((form.get("scope") ?? "").split(" ").filter(Boolean).map((s) => ["scope", s]));
        params.set("service", form.get("service") ?? "");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: jwt(params), expires_in: 600, scope: form.get("scope") }));
      });
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Basic realm="mb-test-token"' });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "wrong username or password" }] }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: jwt(url.searchParams), expires_in: 600, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("token server has no port");
  return { server, realm: `http://127.0.0.1:${addr.port}/token`, certFile, issued: () => issued };
}

/** Starts a registry (see the file header) and waits until `/v2/` answers; fails naming docker-registry if missing. */
export async function startRegistry(opts: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? "none";
  if (!existsSync(DOCKER_REGISTRY)) throw new Error(`${DOCKER_REGISTRY} is missing: install Debian's docker-registry package (apt-get install docker-registry)`);
  const dir = mkdtempSync(join(tmpdir(), "mb-registry-"));
  const storage = join(dir, "storage");
  const username = auth === "none" ? undefined : "mb-tester";
  const password = auth === "none" ? undefined : randomBytes(9).toString("base64url");
  const refreshToken = auth === "token" ? `refresh-${randomBytes(9).toString("base64url")}` : undefined;
  let token: Awaited<ReturnType<typeof startTokenServer>> | undefined;
  let authYaml = "";
  if (auth === "htpasswd") {
    writeFileSync(join(dir, "htpasswd"), `${username}:${bcrypt(password!)}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: mb-test-realm\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    token = await startTokenServer(dir, username!, password!, refreshToken!);
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: mb-test-registry\n    issuer: mb-test-issuer\n    rootcertbundle: ${token.certFile}\n`;
  }
  let out = "";
  let child: ChildProcess | undefined;
  let host = "";
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    const config = join(dir, "config.yml");
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${authYaml}`,
    );
    const proc = spawn(DOCKER_REGISTRY, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    let exited = false;
    proc.on("exit", () => (exited = true));
    for (let i = 0; i < 400 && !exited; i++) {
      const ok = await fetch(`http://${host}/v2/`).then(
        (r) => r.status === 200 || r.status === 401,
        () => false,
      );
      if (ok) {
        child = proc;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child === undefined) {
      proc.kill("SIGKILL");
      if (!/address already in use/.test(out)) {
        token?.server.close();
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`docker-registry did not answer on ${host}:\n${out}`);
      }
    }
  }
  if (child === undefined) throw new Error(`docker-registry found no free port:\n${out}`);
  const proc = child;
  return {
    host,
    ...(username !== undefined ? { username, password } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    storage,
    log: () => out,
    requests: () => [...out.matchAll(/"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    tokensIssued: () => token?.issued() ?? 0,
    writeAuthFile(into, pw = password) {
      const file = join(into, "auth.json");
      writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${pw}`).toString("base64") } } }));
      return file;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      if (token) await new Promise((r) => token.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a proxy in front of a registry does to a request: refuse it with a status, or alter a response body. */
export interface ProxyRules {
  /** A status (and registry error code) to answer instead of forwarding, or null to forward. */
  refuse?(method: string, url: string): { status: number; code: string } | null;
  /** The body to send back instead of the registry's (same length or not). */
  transform?(method: string, url: string, body: Buffer): Buffer;
}

/**
 * An HTTP proxy on a free loopback port in front of a test registry, forwarding the Host header (so the registry's
 * upload Locations point at the proxy), which can refuse requests or alter responses: a registry that fails or lies.
 */
export async function startProxy(target: string, rules: ProxyRules): Promise<{ host: string; stop(): Promise<void> }> {
  const [targetHost, targetPort] = target.split(":");
  const server = createServer((req, res) => {
    const refused = rules.refuse?.(req.method ?? "GET", req.url ?? "/") ?? null;
    if (refused) {
      req.resume();
      res.writeHead(refused.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: refused.code, message: `refused by the test proxy` }] }));
      return;
    }
    const up = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (r) => {
      if (!rules.transform) {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => {
        const body = rules.transform!(req.method ?? "GET", req.url ?? "/", Buffer.concat(chunks));
        res.writeHead(r.statusCode ?? 502, { ...r.headers, "content-length": String(body.length) });
        res.end(body);
      });
    });
    up.on("error", (e) => res.destroy(e));
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("proxy has no port");
  return {
    host: `127.0.0.1:${addr.port}`,
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
