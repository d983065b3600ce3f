/**
 * The runtime vocabulary under the original's names (`mb.ornaments.capabilities`, `.protocol`, ...), one object, so
 * `vocabulary.protocol.builtins.grpc` reads as the original's `mb.ornaments.protocol.builtins.grpc`.
 */
import { capabilities } from "./capabilities/index.js";
import { protocol } from "./protocol/index.js";
import { replServer } from "./repl/index.js";
import { service } from "./service/index.js";
import { toolEnv } from "./tool-env/index.js";
import { transform } from "./transform/index.js";

/** Every runtime vocabulary ornament, by the original's name. */
export const vocabulary = { capabilities, protocol, service, replServer, toolEnv, transform } as const;
