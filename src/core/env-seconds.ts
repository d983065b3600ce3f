/**
 * Durations in seconds from the environment (`MB_LOAD_TIMEOUT`, `MB_HEALTH_TIMEOUT`, `MB_SUBSTITUTER_TIMEOUT`,
 * `MB_CREDENTIAL_HELPER_TIMEOUT`), read by one rule: unset or empty is the default; a decimal number of seconds
 * otherwise, anything else exit 2 naming the variable. Pure: the environment is an argument.
 */
import { ExitCode, MbError } from "./errors.js";

/**
 * The duration `env[name]` gives, in milliseconds (at least 1). With `maxSeconds`, it must also lie above 0 and at
 * most that; `code` is the error's code.
 */
export function secondsFromEnv(env: NodeJS.ProcessEnv, name: string, defaultSeconds: number, code: string, maxSeconds?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return defaultSeconds * 1000;
  const seconds = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  const bounded = maxSeconds === undefined ? seconds >= 0 : seconds > 0 && seconds <= maxSeconds;
  if (!bounded) {
    throw new MbError(code, `${name} must be a number of seconds${maxSeconds === undefined ? "" : ` above 0 (at most ${maxSeconds})`}, got '${raw}'`, { exitCode: ExitCode.usage });
  }
  return Math.max(1, Math.ceil(seconds * 1000));
}
