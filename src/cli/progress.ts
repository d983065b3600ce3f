/** Rendering engine events: a live line per running step on a terminal, plain lines otherwise, or one JSON object per line. */
import type { BuildEvent, Emit } from "../engine/events.js";
import type { Io } from "./io.js";

/** A progress renderer. */
export interface Progress {
  readonly emit: Emit;
  /** Stops live redrawing and clears the live lines. */
  close(): void;
}

/** How progress is shown. */
export type ProgressMode = "json" | "tty" | "plain";

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;

function line(e: BuildEvent): string | null {
  switch (e.event) {
    case "plan": {
      const fetch = e.fetches && e.fetches.length > 0 ? `mb: ${e.fetches.length} entr${e.fetches.length === 1 ? "y" : "ies"} to fetch from a binary cache: ${e.fetches.map((f) => f.name).join(", ")}` : null;
      const run = e.builds.length === 0 ? null : `mb: ${e.builds.length} build${e.builds.length === 1 ? "" : "s"} to run: ${e.builds.map((b) => `${b.name} (${b.steps} step${b.steps === 1 ? "" : "s"})`).join(", ")}`;
      return [fetch, run].filter((l) => l !== null).join("\n") || null;
    }
    case "cached":
      return `mb: ${e.name} is in the store: ${e.storePath}`;
    case "substituted":
      return `mb: fetched ${e.name} from ${e.substituter} (${(e.bytes / 1048576).toFixed(1)} MiB, signature and content hash checked) in ${secs(e.durationMs)}: ${e.storePath}`;
    case "substituter-warning":
      return `mb: warning: substituter ${e.substituter}: ${e.name === null ? "" : `${e.name}: `}${e.reason}`;
    case "waiting":
      return `mb: waiting for ${e.pid === null ? "another process" : `process ${e.pid}`}, which is building ${e.name}`;
    case "import":
      return `mb: importing ${e.source} -> ${e.storePath}`;
    case "build-start":
      return `mb: ${e.check ? "rebuilding" : "building"} ${e.name}${e.check ? " to check it" : ""} (${e.steps} step${e.steps === 1 ? "" : "s"})`;
    case "step-start":
      return `mb: [${e.index}/${e.total}] ${e.name}: ${e.step}`;
    case "step-done":
      return e.status === 0 ? null : `mb: [${e.index}/${e.total}] ${e.name}: ${e.step} ${e.status > 128 ? "was killed" : "failed"} (exit status ${e.status}) after ${secs(e.durationMs)}`;
    case "build-done":
      return e.check ? `mb: rebuilt ${e.name} in ${secs(e.durationMs)}` : `mb: built ${e.name} in ${secs(e.durationMs)}: ${e.storePath}`;
    case "build-failed":
      return null;
    case "artifact":
      return `mb: wrote runtime artifact ${e.name}: ${e.storePath}`;
    case "check":
    case "evidence":
    case "service":
    case "result":
      return null;
  }
}

interface Live {
  readonly label: string;
  readonly started: number;
}

/** Creates the renderer for a mode. */
export function createProgress(mode: ProgressMode, io: Io): Progress {
  if (mode === "json") return { emit: (e) => io.out(`${JSON.stringify(e)}\n`), close: () => {} };
  if (mode === "plain") {
    return {
      emit: (e) => {
        const l = line(e);
        if (l) io.err(`${l}\n`);
      },
      close: () => {},
    };
  }
  const live = new Map<string, Live>();
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;
  const clear = () => {
    if (drawn > 0) io.err(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    clear();
    const now = performance.now();
    const cols = (process.stderr.columns || 100) - 1;
    const lines = [...live.values()].map((l) => `${l.label}  ${secs(now - l.started)}`.slice(0, cols));
    if (lines.length > 0) io.err(`${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  const permanent = (text: string) => {
    clear();
    io.err(`${text}\n`);
    draw();
  };
  return {
    emit: (e) => {
      if (e.event === "step-start") {
        live.set(e.storePath, { label: `[${e.index}/${e.total}] ${e.name}: ${e.step}`, started: performance.now() });
        timer ??= setInterval(draw, 100);
        timer.unref?.();
        draw();
        return;
      }
      if (e.event === "step-done") {
        live.delete(e.storePath);
        permanent(`${e.status === 0 ? "✓" : "✗"} [${e.index}/${e.total}] ${e.name}: ${e.step}  ${secs(e.durationMs)}${e.status === 0 ? "" : ` (exit status ${e.status})`}`);
        return;
      }
      const l = line(e);
      if (l) permanent(l);
    },
    close: () => {
      if (timer) clearInterval(timer);
      timer = null;
      live.clear();
      clear();
    },
  };
}
