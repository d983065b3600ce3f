/**
 * The exported value of a builder as plain data, read once in the loading worker: a getter that throws, a value that
 * contains itself (a builder that depends on itself), a function or a symbol become one message naming the path.
 */
import { formatPath } from "../core/errors.js";

/** Why an exported value is not data, with the path into it. */
export class NotData extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Copies `value` into plain objects and arrays; shared parts stay shared, a cycle or unreadable part is a `NotData`. */
export function plainData(value: unknown): unknown {
  const done = new Map<object, unknown>();
  const open = new Map<object, (string | number)[]>();
  const copy = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === "function") throw new NotData(formatPath(path), `${formatPath(path)} is a function, not data`);
    if (typeof v === "symbol") throw new NotData(formatPath(path), `${formatPath(path)} is a symbol, not data`);
    if (v === null || typeof v !== "object") return v;
    if (done.has(v)) return done.get(v);
    const outer = open.get(v);
    if (outer) {
      throw new NotData(formatPath(path), `${formatPath(path)} contains itself: it is the value at ${formatPath(outer)} (a builder cannot depend on itself)`);
    }
    open.set(v, path);
    let out: unknown;
    try {
      if (Array.isArray(v)) {
        out = Array.from({ length: v.length }, (_, i) => copy(read(v, i, path), [...path, i]));
      } else if (v instanceof Date || v instanceof RegExp || v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) {
        out = v; // structured clone copies these
      } else {
        let keys: string[];
        try {
          keys = Object.keys(v);
        } catch (e) {
          throw new NotData(formatPath(path), `listing the keys of ${formatPath(path)} threw: ${describe(e)}`);
        }
        const o: Record<string, unknown> = {};
        for (const k of keys) o[k] = copy(read(v, k, path), [...path, k]);
        out = o;
      }
    } finally {
      open.delete(v);
    }
    done.set(v, out);
    return out;
  };
  return copy(value, []);
}

function read(o: object, key: string | number, path: (string | number)[]): unknown {
  try {
    return (o as Record<string | number, unknown>)[key];
  } catch (e) {
    const at = formatPath([...path, key]);
    throw new NotData(at, `reading ${at} threw: ${describe(e)}`);
  }
}
