// The driver's marker reader, without bash: S/D lines in, what they mean out (step started, step done with its
// status, protocol violation), and the verdict once the shell has exited.
import { describe, expect, it } from "vitest";
import { MarkerParser, type MarkerEvent } from "../../src/engine/driver.js";

/** Feeds `text` to a fresh reader of `steps` steps and returns the events and the reader. */
function read(steps: number, text: string): { events: MarkerEvent[]; parser: MarkerParser } {
  const parser = new MarkerParser(steps);
  return { events: parser.feed(text), parser };
}

describe("the marker reader", () => {
  it("reads a normal sequence: every step started and done, in order", () => {
    const { events, parser } = read(2, "S 0 100\nD 0 0\nS 1 101\nD 1 0\n");
    expect(events).toEqual([
      { kind: "start", index: 0, group: 100 },
      { kind: "done", index: 0, status: 0, group: 100 },
      { kind: "start", index: 1, group: 101 },
      { kind: "done", index: 1, status: 0, group: 101 },
    ]);
    expect(parser.open).toBeNull();
    expect(parser.finish(0, null)).toEqual({ exit: { failed: null, status: 0, signal: null }, stopped: null, stoppedFails: false });
  });

  it("joins lines split across chunks", () => {
    const parser = new MarkerParser(1);
    expect(parser.feed("S 0 1")).toEqual([]);
    expect(parser.feed("00\nD 0")).toEqual([{ kind: "start", index: 0, group: 100 }]);
    expect(parser.open).toEqual({ index: 0, group: 100 });
    expect(parser.feed(" 3\n")).toEqual([{ kind: "done", index: 0, status: 3, group: 100 }]);
    expect(parser.finish(3, null).exit).toEqual({ failed: 0, status: 3, signal: null });
  });

  it("reports a failed step with its status", () => {
    const { events, parser } = read(3, "S 0 7\nD 0 0\nS 1 8\nD 1 2\n");
    expect(events[3]).toEqual({ kind: "done", index: 1, status: 2, group: 8 });
    expect(parser.finish(2, null).exit).toEqual({ failed: 1, status: 2, signal: null });
  });

  it("calls an out-of-order marker a violation, naming the step open at the time", () => {
    const { events, parser } = read(3, "S 0 7\nD 1 0\n");
    expect(events).toEqual([
      { kind: "start", index: 0, group: 7 },
      { kind: "violation", line: "D 1 0", group: 7 },
    ]);
    expect(read(3, "S 1 7\n").events).toEqual([{ kind: "violation", line: "S 1 7", group: null }]);
    expect(parser.finish(137, null).exit).toEqual({
      failed: 0,
      status: 137,
      signal: null,
      problem: "the build's shell reported 'D 1 0', which is not the next step's start or end: a step wrote to the shell's marker pipe",
    });
  });

  it("calls a duplicate marker a violation, and reports only the first violation", () => {
    const { events, parser } = read(2, "S 0 7\nS 0 7\nD 0 0\nD 0 0\n");
    expect(events).toEqual([
      { kind: "start", index: 0, group: 7 },
      { kind: "violation", line: "S 0 7", group: 7 },
      { kind: "done", index: 0, status: 0, group: 7 },
    ]);
    expect(parser.finish(0, null).exit).toMatchObject({ failed: null, status: 1, problem: expect.stringContaining("'S 0 7'") });
  });

  it("calls garbage a violation, cut to 80 characters", () => {
    const long = "x".repeat(100);
    expect(read(1, "hello\n").events).toEqual([{ kind: "violation", line: "hello", group: null }]);
    expect(read(1, `${long}\n`).events).toEqual([{ kind: "violation", line: `${"x".repeat(80)}...`, group: null }]);
    // A start beyond the steps given, a zero process group and a marker with extra fields are not the next start.
    for (const line of ["S 1 5", "S 0 0", "S 0 5 6", "s 0 5", "S -1 5"]) expect(read(1, `${line}\n`).events[0]?.kind).toBe("violation");
  });

  it("after a failed step, a further end is a violation", () => {
    const { events } = read(2, "S 0 7\nD 0 1\nS 1 8\nD 1 0\n");
    expect(events.map((e) => e.kind)).toEqual(["start", "done", "start", "violation"]);
  });

  it("calls an unfinished last line a violation at the end", () => {
    const { parser } = read(1, "S 0 7\nD 0 0\nD 0");
    expect(parser.finish(0, null).exit).toEqual({
      failed: null,
      status: 1,
      signal: null,
      problem: "the build's shell reported 'D 0', which is not the next step's start or end: a step wrote to the shell's marker pipe",
    });
  });

  it("fails the step the shell stopped inside", () => {
    const { parser } = read(2, "S 0 7\n");
    expect(parser.finish(null, "SIGKILL")).toEqual({ exit: { failed: 0, status: 137, signal: "SIGKILL" }, stopped: { index: 0, group: 7 }, stoppedFails: true });
    // An exit status of 0 inside a step is still a failure.
    expect(read(2, "S 0 7\n").parser.finish(0, null).exit).toEqual({ failed: 0, status: 1, signal: null });
  });

  it("reports a premature end between steps as a problem outside any step", () => {
    const { parser } = read(3, "S 0 7\nD 0 0\n");
    expect(parser.finish(0, null).exit).toEqual({ failed: null, status: 1, signal: null, problem: "the build's shell exited with status 0 after 1 of 3 steps, before starting step 2" });
    expect(read(2, "").parser.finish(null, "SIGTERM").exit).toEqual({
      failed: null,
      status: 143,
      signal: "SIGTERM",
      problem: "the build's shell was killed by SIGTERM after 0 of 2 steps, before starting step 1",
    });
  });

  it("reports a shell that fails after its last step", () => {
    const { parser } = read(1, "S 0 7\nD 0 0\n");
    expect(parser.finish(4, null).exit).toEqual({ failed: null, status: 4, signal: null, problem: "the build's shell exited with status 4 after its last step" });
  });
});
