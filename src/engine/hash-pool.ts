/**
 * Hashing worker threads, started on first use: large files are digested off the main thread, several at once, and
 * while the build's steps are still running (see Speculator). Idle workers do not keep the process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ChunkDigests, FileDigest } from "./file-digest.js";

/** Files at least this large are hashed by workers; smaller ones are cheaper to hash inline than to hand over. */
export const LARGE_FILE = 8 << 20;

/** What a worker is asked: a whole file's digests (with its plain sha256 or not), or some chunks' digests. */
export type HashJob =
  | { readonly kind: "file"; readonly path: string; readonly needle: Uint8Array; readonly plain: boolean }
  | { readonly kind: "chunks"; readonly path: string; readonly needle: Uint8Array; readonly first: number; readonly count: number };

interface Job {
  readonly id: number;
  readonly job: HashJob;
  readonly resolve: (d: unknown) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | null;
}

export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private next = 1;
  private closed = false;

  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism()))) {}

  /** A whole file's digests (see digestFile), computed by a worker. */
  digest(path: string, needle: Buffer, plain = false): Promise<FileDigest> {
    return this.run({ kind: "file", path, needle, plain }) as Promise<FileDigest>;
  }

  /** The digests of `count` chunks of a file from chunk `first` on (see digestChunks), computed by a worker. */
  chunks(path: string, needle: Buffer, first: number, count: number): Promise<ChunkDigests> {
    return this.run({ kind: "chunks", path, needle, first, count }) as Promise<ChunkDigests>;
  }

  private run(job: HashJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("the hashing pool is closed"));
    return new Promise<unknown>((resolve, reject) => {
      this.queue.push({ id: this.next++, job, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, job: job.job });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL("./hash-worker.js", import.meta.url));
    const slot: Slot = { worker, job: null };
    worker.on("message", (m: { id: number; result?: unknown; error?: string }) => {
      const job = slot.job;
      slot.job = null;
      worker.unref();
      if (job && job.id === m.id) {
        if (m.result) job.resolve(m.result);
        else job.reject(new Error(m.error ?? "hashing failed"));
      }
      this.pump();
    });
    const lost = (e: Error) => {
      const job = slot.job;
      slot.job = null;
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots.splice(at, 1);
      job?.reject(e);
      if (!this.closed) this.pump();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`a hashing worker exited (code ${code})`)));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** Stops the workers; queued and running digests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error("the hashing pool is closed"));
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
  }
}
