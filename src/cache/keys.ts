/**
 * Signing keys of the binary cache: ed25519 (node:crypto), written as Nix writes its binary-cache keys, one line
 * `<name>:<base64>`: the secret key file holds the 32-byte seed and the 32-byte public key (64 bytes), the public
 * key file the 32-byte public key. A signature is `<name>:<base64 of 64 bytes>` over `entryFingerprint(...)`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";

/** A key name: what a signature names its key by. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** A secret (signing) key. */
export interface SecretKey {
  readonly name: string;
  readonly key: KeyObject;
}

/** A public (verifying) key. */
export interface PublicKey {
  readonly name: string;
  readonly key: KeyObject;
  /** The key as written: `<name>:<base64>`. */
  readonly text: string;
}

const b64url = (b: Buffer) => b.toString("base64url");

function keyError(message: string, hint?: string): MbError {
  return new MbError("cache.key", message, { exitCode: ExitCode.usage, ...(hint ? { hint } : {}) });
}

/** The key name a path gives (`mb key generate dir/ci-1` names its key `ci-1`); a bad name is exit 2. */
export function keyNameOf(path: string): string {
  const name = basename(path);
  if (!KEY_NAME.test(name)) throw keyError(`'${name}' cannot name a key: a key name is 1-128 characters of [A-Za-z0-9._+-], starting with a letter or digit`);
  return name;
}

/** Generates an ed25519 key pair named `name`: the texts of the secret and public key files. */
export function generateKeyPair(name: string): { secret: string; public: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d!, "base64url");
  const pub = Buffer.from(jwk.x!, "base64url");
  return { secret: `${name}:${Buffer.concat([seed, pub]).toString("base64")}\n`, public: `${name}:${pub.toString("base64")}\n` };
}

/** Writes `K.sec` (mode 0600, never over an existing file) and `K.pub` for the key named by `K`'s base name. */
export function writeKeyPair(base: string): { name: string; secretFile: string; publicFile: string } {
  const name = keyNameOf(base);
  const secretFile = `${base}.sec`;
  const publicFile = `${base}.pub`;
  for (const f of [secretFile, publicFile]) if (existsSync(f)) throw keyError(`'${f}' exists: mb key generate never overwrites a key`, "choose another name, or remove the old key first");
  const pair = generateKeyPair(name);
  const write = (file: string, text: string, mode: number) => {
    const fd = openSync(file, "wx", mode);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  };
  write(secretFile, pair.secret, 0o600);
  write(publicFile, pair.public, 0o644);
  return { name, secretFile, publicFile };
}

/** Splits `<name>:<base64>` into its name and bytes; `what` names the text in the error. */
function splitKey(text: string, what: string, length: number): { name: string; bytes: Buffer } {
  const t = text.trim();
  const colon = t.indexOf(":");
  const name = colon < 0 ? "" : t.slice(0, colon);
  const data = colon < 0 ? "" : t.slice(colon + 1);
  if (!KEY_NAME.test(name) || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw keyError(`${what} is not a key of the form <name>:<base64>`);
  const bytes = Buffer.from(data, "base64");
  if (bytes.length !== length) throw keyError(`${what} holds ${bytes.length} bytes of key, not ${length} (an ed25519 ${length === 64 ? "secret" : "public"} key)`);
  return { name, bytes };
}

/** Parses a public key `<name>:<base64 of 32 bytes>`. */
export function parsePublicKey(text: string, what = "the public key"): PublicKey {
  const { name, bytes } = splitKey(text, what, 32);
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(bytes) }, format: "jwk" });
  return { name, key, text: `${name}:${bytes.toString("base64")}` };
}

/** Parses a secret key `<name>:<base64 of seed and public key>`; the public half must be the seed's. */
export function parseSecretKey(text: string, what = "the secret key"): SecretKey {
  const { name, bytes } = splitKey(text, what, 64);
  const d = b64url(bytes.subarray(0, 32));
  const x = b64url(bytes.subarray(32));
  const key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d, x }, format: "jwk" });
  if (createPublicKey(key).export({ format: "jwk" }).x !== x) throw keyError(`${what}: its public half does not belong to its secret half`);
  return { name, key };
}

/** Reads a secret key file; one readable or writable by group or others is refused (exit 2), as is one that is not a key. */
export function readSecretKeyFile(file: string): SecretKey {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw keyError(`cannot read the secret key '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "make one with `mb key generate NAME`");
  }
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw keyError(`the secret key '${file}' is accessible by group or others (mode ${mode.toString(8).padStart(4, "0")}); refusing to use it`, `chmod 600 '${file}'`);
  }
  return parseSecretKey(readFileSync(file, "utf8"), `the secret key '${file}'`);
}

/** A trusted key given as a file (`K.pub`) or as its text `<name>:<base64>` (as in MB_TRUSTED_KEYS). */
export function readPublicKey(spec: string): PublicKey {
  if (existsSync(spec)) return parsePublicKey(readFileSync(spec, "utf8"), `the public key '${spec}'`);
  if (/^[^/]*:[A-Za-z0-9+/]+={0,2}$/.test(spec)) return parsePublicKey(spec, `the trusted key '${spec}'`);
  throw keyError(`the trusted key '${spec}' is neither a file nor a key of the form <name>:<base64>`);
}

/** The bytes a cache entry's signature covers: its store path, content hash and references (sorted). */
export function entryFingerprint(storePath: string, outputHash: string, references: readonly string[]): string {
  return `mb-store-entry;1;${storePath};${outputHash};${[...references].sort().join(",")}`;
}

/** Signs a fingerprint: `<key name>:<base64 signature>`. */
export function signText(key: SecretKey, text: string): string {
  return `${key.name}:${sign(null, Buffer.from(text, "utf8"), key.key).toString("base64")}`;
}

/** Why a signature does not vouch for `text` under the trusted keys, or null when it does. */
export function signatureProblem(signature: string | undefined, text: string, trusted: readonly PublicKey[]): string | null {
  if (signature === undefined || signature === "") return "it is not signed";
  const colon = signature.indexOf(":");
  const name = colon < 0 ? "" : signature.slice(0, colon);
  const key = trusted.find((k) => k.name === name);
  if (colon < 0 || name === "") return "its signature is not of the form <key name>:<base64>";
  if (!key) return `it is signed by the key '${name}', which is not trusted (trusted: ${trusted.map((k) => k.name).join(", ") || "none"})`;
  const sig = Buffer.from(signature.slice(colon + 1), "base64");
  let ok = false;
  try {
    ok = sig.length === 64 && verify(null, Buffer.from(text, "utf8"), key.key, sig);
  } catch {
    ok = false;
  }
  return ok ? null : `its signature by '${name}' does not match its store path, content hash and references`;
}
