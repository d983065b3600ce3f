/**
 * Runs Docker credential helpers (the docker-credential-helpers protocol): `docker-credential-<name> get`, found on
 * PATH and run without a shell, the server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout. An answer
 * "credentials not found" is anonymous. Each helper is asked once per server URL per process (the answer, or the
 * failure, is cached), within `MB_CREDENTIAL_HELPER_TIMEOUT` seconds (default 30).
 */
import { execFile } from "node:child_process";
import { z } from "zod";
import { MbError, ExitCode } from "../core/errors.js";
import { HELPER_SUFFIX, helperServerUrl, type CredentialSource, type Credentials } from "./auth.js";
import { secondsFromEnv } from "../core/env-seconds.js";

/** The time a helper may take when `MB_CREDENTIAL_HELPER_TIMEOUT` is not set. */
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

/** A helper's answer to `get`. */
const HelperAnswer = z
  .object({
    ServerURL: z.string().optional().describe("the server the credentials are for"),
    Username: z.string().describe("the user name, or `<token>` when Secret is an identity token"),
    Secret: z.string().describe("the password or identity token"),
  })
  .describe("a credential helper's answer to get");

/** The time limit of a helper run, from `MB_CREDENTIAL_HELPER_TIMEOUT` (seconds); not a number is exit 2. */
export function helperTimeoutMs(env: NodeJS.ProcessEnv): number {
  return secondsFromEnv(env, "MB_CREDENTIAL_HELPER_TIMEOUT", DEFAULT_HELPER_TIMEOUT_MS / 1000, "registry.helper-timeout");
}

/** What a helper printed, cut to a readable size for a message. */
function shown(text: string): string {
  const t = text.trim();
  return t.length > 2000 ? `${t.slice(0, 2000)}…` : t;
}

/** The credentials a helper's stdout gives, or null when it gave an empty user and secret; anything else throws `bad`. */
export function parseHelperAnswer(stdout: string, source: string, bad: (why: string) => MbError): Credentials | null {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw bad(`printed no JSON on stdout (${Buffer.byteLength(stdout)} bytes)`);
  }
  const parsed = HelperAnswer.safeParse(json);
  if (!parsed.success) throw bad(`printed JSON without string Username and Secret`);
  const { Username: username, Secret: secret } = parsed.data;
  if (username === "" && secret === "") return null;
  if (username === "<token>") return { username: "", password: "", source, identityToken: secret };
  return { username, password: secret, source };
}

/**
 * Runs `docker-credential-<helper> get` for `serverUrl`: the credentials, or null when the helper has none. A helper
 * not on PATH or not runnable is exit 2; one that fails, times out or prints something else is exit 1 with its stderr.
 */
export function runCredentialHelper(helper: string, serverUrl: string, where: string, env: NodeJS.ProcessEnv): Promise<Credentials | null> {
  const program = `docker-credential-${helper}`;
  const source = `${program} (${where})`;
  if (!HELPER_SUFFIX.test(helper)) {
    return Promise.reject(new MbError("registry.helper", `${where}: ${JSON.stringify(helper)} is not a credential helper name`, { exitCode: ExitCode.usage }));
  }
  const timeoutMs = helperTimeoutMs(env);
  const bad = (why: string, stderr = ""): MbError =>
    new MbError("registry.helper", `credential helper ${source} ${why} for ${serverUrl}${shown(stderr) ? `:\n${shown(stderr)}` : ""}`, { exitCode: ExitCode.problems });
  return new Promise((resolve, reject) => {
    const child = execFile(program, ["get"], { env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 20, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EACCES") {
          const why = code === "ENOENT" ? "is not on PATH" : "is not executable";
          reject(new MbError("registry.helper", `credential helper program ${program} (named by ${where}) ${why}`, { exitCode: ExitCode.usage, hint: `install ${program}, or remove the entry from the file` }));
        } else if (error.killed) reject(bad(`did not answer within ${timeoutMs / 1000} s (MB_CREDENTIAL_HELPER_TIMEOUT)`, stderr));
        else if (/credentials not found/i.test(`${stdout}\n${stderr}`)) resolve(null);
        else if (typeof code === "number") reject(bad(`failed (exit status ${code})`, `${stderr}\n${stdout}`));
        else reject(bad(`failed (${error.signal ? `killed by ${error.signal}` : error.message})`, stderr));
        return;
      }
      try {
        resolve(parseHelperAnswer(stdout, source, (why) => bad(why, stderr)));
      } catch (e) {
        reject(e as Error);
      }
    });
    child.stdin?.on("error", () => {}); // a helper that does not read stdin: its answer decides
    child.stdin?.end(serverUrl);
  });
}

/** Answers (or failures) per helper and server URL, for the whole process. */
const asked = new Map<string, Promise<Credentials | null>>();

/** Asks a helper source for `registry`'s credentials, once per helper and server URL per process. */
export function helperCredentials(source: Extract<CredentialSource, { kind: "helper" }>, registry: string, env: NodeJS.ProcessEnv): Promise<Credentials | null> {
  const serverUrl = helperServerUrl(registry);
  const key = `${source.helper}\0${serverUrl}`;
  let answer = asked.get(key);
  if (answer === undefined) {
    answer = runCredentialHelper(source.helper, serverUrl, `${source.key} of ${source.file}`, env);
    answer.catch(() => {}); // rejected answers are seen by whoever awaits them
    asked.set(key, answer);
  }
  return answer;
}
