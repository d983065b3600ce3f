/** `mb key generate K`: a signing key pair for the binary cache, `K.sec` (mode 0600) and `K.pub`. */
import { resolve } from "node:path";
import { ExitCode, MbError } from "../core/errors.js";
import { writeKeyPair } from "../cache/keys.js";
import type { Io } from "./io.js";

const usage = (message: string) => new MbError("usage", message, { exitCode: ExitCode.usage, hint: "run `mb key --help` for usage" });

/** `mb key generate K`: writes the key pair; prints the two files (with --json: `{name, secretKey, publicKey}`). */
export async function runKey(rest: readonly string[], flags: { json: boolean }, io: Io): Promise<number> {
  const [sub, base, ...more] = rest;
  if (sub !== "generate") throw usage(`key needs a subcommand: 'generate'${sub ? `, got '${sub}'` : ""}`);
  if (base === undefined || base === "") throw usage("key generate needs a name: mb key generate K writes K.sec and K.pub");
  if (more.length > 0) throw usage(`unexpected argument '${more[0]}'`);
  const made = writeKeyPair(base);
  if (flags.json) io.out(JSON.stringify({ name: made.name, secretKey: resolve(made.secretFile), publicKey: resolve(made.publicFile) }, null, 2) + "\n");
  else io.out(`${made.secretFile}\n${made.publicFile}\n`);
  return ExitCode.ok;
}
