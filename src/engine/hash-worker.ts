/** A hashing worker thread: digests whole files or ranges of chunks on request (see file-digest.ts). */
import { parentPort } from "node:worker_threads";
import { digestChunks, digestFile } from "./file-digest.js";
import type { HashJob } from "./hash-pool.js";

parentPort!.on("message", ({ id, job }: { id: number; job: HashJob }) => {
  try {
    const needle = Buffer.from(job.needle);
    const result = job.kind === "file" ? digestFile(job.path, needle, job.plain) : digestChunks(job.path, needle, job.first, job.count);
    parentPort!.postMessage({ id, result });
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).message });
  }
});
