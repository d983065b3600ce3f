/** A hashing worker thread: digests files on request (see file-digest.ts). */
import { parentPort } from "node:worker_threads";
import { digestFile } from "./file-digest.js";

parentPort!.on("message", (m: { id: number; path: string; needle: Uint8Array }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: digestFile(m.path, Buffer.from(m.needle)) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
