// Headless Chromium (Debian's `chromium`) driven over its DevTools protocol on a pipe (`--remote-debugging-pipe`: the
// browser reads commands on fd 3 and writes replies and events on fd 4, each a JSON text ended by a NUL byte), so no
// port, no WebSocket and no npm dependency. Used by the tour page tests to load a page, collect console errors and
// exceptions, read the DOM and take a screenshot.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** The chromium executable, or an error naming the Debian package to install. */
export function chromiumPath(): string {
  for (const name of ["chromium", "chromium-browser"]) {
    const r = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() !== "") return r.stdout.trim();
  }
  throw new Error("chromium is not installed: the tour page tests load pages in headless Chromium (apt-get install chromium)");
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

/** What loading one page gave. */
export interface PageReport {
  /** Console messages of level error, uncaught exceptions and log entries of level error (failed loads, CSP). */
  readonly errors: string[];
  /** The value of the evaluated expression. */
  readonly value: unknown;
  /** The screenshot, PNG bytes. */
  readonly png: Buffer;
}

/** A headless Chromium with its own profile in a temporary directory. */
export class Chromium {
  private readonly child: ChildProcess;
  private readonly profile: string;
  private readonly input: Writable;
  private nextId = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];
  private stderr = "";
  private exited: Error | null = null;

  constructor() {
    const exe = chromiumPath();
    this.profile = mkdtempSync(join(tmpdir(), "mb-chromium-"));
    this.child = spawn(
      exe,
      ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio", `--user-data-dir=${this.profile}`, "--remote-debugging-pipe", "about:blank"],
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
    );
    this.input = this.child.stdio[3] as Writable;
    const output = this.child.stdio[4] as Readable;
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    output.on("data", (d: Buffer) => this.receive(d));
    this.child.on("exit", (code, signal) => {
      this.exited = new Error(`chromium exited (${code ?? signal}): ${this.stderr.trim().split("\n").slice(-5).join("\n")}`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
    this.child.on("error", (e) => {
      this.exited = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  private receive(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (let nul = this.buffer.indexOf(0); nul >= 0; nul = this.buffer.indexOf(0)) {
      const msg = JSON.parse(this.buffer.subarray(0, nul).toString("utf8")) as Message;
      this.buffer = this.buffer.subarray(nul + 1);
      if (msg.id !== undefined && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id)!;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`DevTools: ${msg.error.message}`));
        else p.resolve(msg);
      } else for (const l of [...this.listeners]) l(msg);
    }
  }

  /** Sends one DevTools command (to a page session when given) and waits for its reply. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    const msg = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (m) => resolve(m.result ?? {}), reject });
      this.input.write(msg + "\0");
    });
  }

  /** Waits for the next event of a method in a session. */
  private once(method: string, sessionId: string): Promise<Message> {
    return new Promise((resolve) => {
      const l = (m: Message) => {
        if (m.method === method && m.sessionId === sessionId) {
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(m);
        }
      };
      this.listeners.push(l);
    });
  }

  /**
   * Opens a URL in a new tab of the given size, waits for its load event, evaluates `expression` (its value returned
   * by value) and takes a screenshot of the whole page (at most `maxHeight` pixels high).
   */
  async load(url: string, expression: string, size = { width: 1200, height: 900 }, maxHeight = 6000): Promise<PageReport> {
    const { targetId } = (await this.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await this.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    const errors: string[] = [];
    const collect = (m: Message) => {
      if (m.sessionId !== sessionId || !m.params) return;
      const p = m.params as Record<string, any>;
      if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
        errors.push(`console.${p.type}: ${(p.args ?? []).map((a: any) => a.value ?? a.description).join(" ")}`);
      } else if (m.method === "Runtime.exceptionThrown") {
        errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      } else if (m.method === "Log.entryAdded" && p.entry?.level === "error") {
        errors.push(`log (${p.entry.source}): ${p.entry.text}${p.entry.url ? ` ${p.entry.url}` : ""}`);
      }
    };
    this.listeners.push(collect);
    try {
      await this.send("Runtime.enable", {}, sessionId);
      await this.send("Log.enable", {}, sessionId);
      await this.send("Page.enable", {}, sessionId);
      await this.send("Emulation.setDeviceMetricsOverride", { ...size, deviceScaleFactor: 1, mobile: false }, sessionId);
      const loaded = this.once("Page.loadEventFired", sessionId);
      const nav = (await this.send("Page.navigate", { url }, sessionId)) as { errorText?: string };
      if (nav.errorText) throw new Error(`cannot load ${url}: ${nav.errorText}`);
      await loaded;
      const evaluated = (await this.send("Runtime.evaluate", { expression, returnByValue: true }, sessionId)) as { result: { value: unknown }; exceptionDetails?: { text: string } };
      if (evaluated.exceptionDetails) throw new Error(`evaluating in ${url}: ${evaluated.exceptionDetails.text}`);
      const metrics = (await this.send("Page.getLayoutMetrics", {}, sessionId)) as { cssContentSize?: { height: number }; contentSize: { height: number } };
      const height = Math.min(maxHeight, Math.ceil((metrics.cssContentSize ?? metrics.contentSize).height));
      const shot = (await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true, clip: { x: 0, y: 0, width: size.width, height, scale: 1 } }, sessionId)) as { data: string };
      return { errors: [...errors], value: evaluated.result.value, png: Buffer.from(shot.data, "base64") };
    } finally {
      this.listeners.splice(this.listeners.indexOf(collect), 1);
      await this.send("Target.closeTarget", { targetId }).catch(() => {});
    }
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once("exit", r));
      await this.send("Browser.close").catch(() => {});
      await gone;
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}
