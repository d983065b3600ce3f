/**
 * Hashing worker threads, started on first use: large files are digested off the main thread, several at once, and
 * while the build's steps are still running (see Speculator). Idle workers do not keep the process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FileDigest } from "./file-digest.js";

/** Files at least this large are hashed by workers; smaller ones are cheaper to hash inline than to hand over. */
export const LARGE_FILE = 8 << 20;

interface Job {
  readonly id: number;
  readonly path: string;
  readonly needle: Buffer;
  readonly resolve: (d: FileDigest) => void;
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

  /** The sha256 of a file and whether it holds `needle`, computed by a worker. */
  digest(path: string, needle: Buffer): Promise<FileDigest> {
    if (this.closed) return Promise.reject(new Error("the hashing pool is closed"));
    return new Promise<FileDigest>((resolve, reject) => {
      this.queue.push({ id: this.next++, path, needle, resolve, reject });
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
      slot.worker.postMessage({ id: job.id, path: job.path, needle: job.needle });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL("./hash-worker.js", import.meta.url));
    const slot: Slot = { worker, job: null };
    worker.on("message", (m: { id: number; result?: FileDigest; error?: string }) => {
      const job = slot.job;
      slot.job = null;
      worker.unref();
      if (job && job.id === m.id) {
        if (m.result) job.resolve(m.result);
        else job.reject(new Error(m.error ?? "hashing failed"));
      }
      this.pump();
    });
    worker.on("error", (e) => {
      const job = slot.job;
      slot.job = null;
      this.slots.splice(this.slots.indexOf(slot), 1);
      job?.reject(e);
      this.pump();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** Stops the workers; pending digests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error("the hashing pool is closed"));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
