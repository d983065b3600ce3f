/** The usage text of `mb`, and the ornament and record names it lists (read from their tables, loading neither). */
import { ORNAMENTS } from "../ornaments/registry.js";
import { RECORD_SCHEMAS } from "../core/record-schemas.js";

/** The ornaments `mb schema` knows, read from the registry (which loads no ornament until one is asked for). */
export const ORNAMENT_NAMES: readonly string[] = ORNAMENTS.map((e) => e.name);
/** The runtime records `mb schema` knows, read from their table (which loads no schema until one is asked for). */
export const RECORD_NAMES: readonly string[] = RECORD_SCHEMAS.map((e) => e.name);

/** Words joined with ", " into lines of at most `width` characters, every line after the first indented by `indent` spaces. */
function wrapWords(words: readonly string[], indent: number, width = 118): string {
  const lines: string[] = [];
  let line = "";
  for (const [i, w] of words.entries()) {
    const word = i < words.length - 1 ? `${w},` : w;
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

/** The usage text. */
export const HELP = `mb - metabuilder: typed builds, many views

Usage: mb <command> [options] <builder>

Views (pure; nothing is built):
  validate <builder>            check the program; exit 1 on diagnostics
  deps <builder>                dependency graph (--format text|json|dot|svg|mermaid; svg draws with graphviz)
  dry-run <builder>             what each operation would do
  plan <builder>                the plan: every step rendered as the shell that runs
  describe <builder>            self-documentation (markdown)
  introspect <builder>          every view at once (markdown)
  export <builder>              the plan as JSON for other programs
  render <shell|dockerfile> <builder>
                                the plan as a standalone bash script or a Dockerfile
  render systemd <builder>      a systemd service unit per materialized service, hardened by its sandbox
                                profile; units printed after '# <unit>.service' lines, or --dir DIR
  path <builder>                the store path the build will have
  docs <builder> --out DIR      a tour page of the builder: DIR/index.md and a self-contained DIR/index.html
  docs --all <dir> --out DIR    a page per builder folder of <dir> (DIR/<name>/) and an index linking them
  schema [name]                 JSON Schema of BuilderSpec, of an ornament (${ORNAMENT_NAMES.join(", ")})
                                or of a runtime record:
                                ${wrapWords(RECORD_NAMES, 32)}

Building (the store):
  build <builder>               realize the build and its dependencies; prints the store path last
  check <builder>               build if needed, then run each evidence command against the result, then start
                                each service on a free port and call its health endpoint
  log <builder|store path>      the build log of an entry
  store verify                  re-hash every entry against its metadata; exit 1 on missing or corrupt ones
                                (--repair: remove each, rebuild it where a known builder makes it; exit 0 if all rebuilt)
  gc                            remove entries not reachable from live out-links
  run <builder> [service]       build if needed, start the service in the foreground in its sandbox, wait for its
                                health check (--port P: the port, default the protocol's), forward SIGINT/SIGTERM

<builder> is a .ts/.js module (default export, or file#name), a directory holding builder.ts, or a .json spec.

Options:
  --json          print the view's data as JSON; for build and check, one JSON event per line
  --format F      deps output format
  --store DIR     store directory (default $MB_STORE, else $XDG_CACHE_HOME/metabuilder/store)
  --out-link P    build: the symlink to the result (default ./result); --no-out-link for none
  --keep-failed   build, check: keep the build directory of a failed build
  --no-sandbox    build, check, path: run steps without the bubblewrap sandbox (other store paths)
  --check         build: rebuild in a temporary location and report differences (reproducibility)
  -j, --jobs N    build, check: run up to N independent builds at once (default 1)
  --out DIR, --all  docs: where the page (or site) is written; a page per builder folder of <dir> and an index
  --dir DIR       render systemd: write one <unit>.service file per service into DIR (their paths printed)
  --dry-run       gc: only list what would be removed
  --repair        store verify: remove what fails, rebuild what a known builder makes
  --port P        run: the port the service listens on (1-65535; default its protocol's defaultPort)
  --debug         show stack traces
  -h, --help      this text

Environment: MB_STORE (the store), SOURCE_DATE_EPOCH (default 1; part of every store path), MB_EVAL_CACHE=0 (always
load and resolve the builder, even when its resolution is cached; builders are assumed pure functions of their files),
MB_LOAD_TIMEOUT (seconds a builder may take to load, default 30), MB_HEALTH_TIMEOUT (seconds a service may take to
answer its health check in run and check, default 30).

Exit codes: 0 fine; 1 the view found problems (diagnostics, an undeclared tool or service, a missing package),
a build, check or verification failed; 2 usage errors and builders that cannot be loaded or do not match their
schema; 130 interrupted (SIGINT or SIGTERM). mb run exits with the service's status (130 when a forwarded signal
ended it).
`;

