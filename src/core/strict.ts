/**
 * Strict records: every record of a spec rejects keys it does not know, naming them with a "did you mean" for a near
 * name (edit distance), so a misspelt `entryPoint` or `comand` is an error instead of a silently dropped field.
 */
import { z } from "zod";

/** The Damerau-Levenshtein distance (optimal string alignment) between two strings. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known name nearest to `name` (case-insensitive), when it is near enough to be a likely misspelling. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = name.length <= 4 ? 1 : 2;
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

/** The message for keys a record does not know, each with its "did you mean" when one is near. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const parts = keys.map((k) => {
    const near = nearestName(k, known);
    return `\`${k}\`${near === undefined ? "" : ` (did you mean \`${near}\`?)`}`;
  });
  return `unknown key${keys.length === 1 ? "" : "s"} ${parts.join(", ")}; known keys: ${known.map((k) => `\`${k}\``).join(", ")}`;
}

type Inst = { _zod?: { def?: { shape?: Record<string, unknown> } } };

// The schema that raised the issue (`inst`) gives the known keys, so `.extend`/`.omit`/`.pick` of a strict record stay right.
const unknownKeysError = (iss: { code?: string; keys?: string[]; inst?: unknown }): string | undefined =>
  iss.code === "unrecognized_keys" ? unknownKeysMessage(iss.keys ?? [], Object.keys((iss.inst as Inst | undefined)?._zod?.def?.shape ?? {})) : undefined;

/** A strict record: a zod object that rejects unknown keys, naming each with a "did you mean" for a near key. */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: unknownKeysError });
}

/** A list of named records whose names are unique: a second record of one name is an error at its `name`. */
export function uniqueNames<T extends z.ZodType<{ name: string }>>(item: T, what: string) {
  return z.array(item).superRefine((items, ctx) => {
    const seen = new Map<string, number>();
    items.forEach((it, i) => {
      const first = seen.get(it.name);
      if (first === undefined) seen.set(it.name, i);
      else if (it.name !== "") ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate ${what} name '${it.name}' (first at [${first}])` });
    });
  });
}

/**
 * The longest name a store entry may carry. Entries are `<32-character hash>-<name>` in one directory, and the store
 * keeps files named after them (`.meta/<entry>.json.<pid>.<random>.tmp`, 24 characters more): with NAME_MAX 255, that
 * leaves 255 - 33 - 24 = 198.
 */
export const STORE_NAME_MAX = 198;

/** A name that becomes part of a store entry's name (`extra` characters are added to it there). */
export function storeNamed(extra = 0) {
  const max = STORE_NAME_MAX - extra;
  return z.string().max(max, `a store entry name is at most ${max} characters here (entries are '<hash>-<name>' and file names at most 255 bytes)`);
}
