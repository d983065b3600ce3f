/** Splits an evidence command line into argv the way a POSIX shell splits words, without running a shell. */
import { MbError } from "../../core/errors.js";

/** Unquoted characters that would mean more than a word to a shell; they are refused, not silently taken literally. */
const SHELL_SYNTAX = new Set(["|", "&", ";", "<", ">", "(", ")", "$", "`"]);

/**
 * Splits `line` into words: blanks separate words; '...' is literal; "..." is literal except that a backslash escapes
 * `\`, `"`, `$`, `` ` `` and newline; an unquoted backslash escapes the next character (a backslash-newline is removed).
 * Expansions, operators, redirections and comments are refused with an MbError: wrap such a command in `/bin/sh -c '...'`.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const fail = (what: string): never => {
    throw new MbError("oci.evidence.command", `evidence command ${JSON.stringify(line)}: ${what}; run shell syntax through /bin/sh -c '...'`);
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) fail("unterminated single quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) fail("unterminated double quote");
        const d = line[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== "\n") word += line[i + 1];
          i += 2;
        } else if (d === "$" || d === "`") {
          fail(`'${d}' inside double quotes would be expanded by a shell`);
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === "\\") {
      if (i + 1 >= line.length) fail("trailing backslash");
      if (line[i + 1] !== "\n") {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === "#" && !inWord) {
      fail("a comment ('#' at the start of a word)");
    } else if (SHELL_SYNTAX.has(c)) {
      fail(`unquoted '${c}' is shell syntax`);
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
