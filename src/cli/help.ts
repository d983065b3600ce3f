/** The usage text of `mb`, and the ornament and record names it lists (read from their tables, loading neither). */
import { readFileSync } from "node:fs";
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
  render nix <builder>          the build and its dependencies as plain Nix derivations, for nix-build
  render dockerfile <builder> --context DIR
                                DIR/Dockerfile and all it needs (tools image, steps, inputs), built offline
                                by BuildKit or buildah into mb build's tree
  render systemd <builder>      a systemd service unit per materialized service, hardened by its sandbox
                                profile; units printed after '# <unit>.service' lines, or --dir DIR
  path <builder>                the store path the build will have
  docs <builder> --out DIR      a tour page of the builder: DIR/index.md and a self-contained DIR/index.html
  docs --all <dir> --out DIR    a page per builder folder of <dir> (DIR/<name>/) and an index linking them
  schema [name]                 JSON Schema of BuilderSpec, of an ornament:
                                ${wrapWords(ORNAMENT_NAMES, 32)}
                                or of a runtime record:
                                ${wrapWords(RECORD_NAMES, 32)}

Building (the store):
  build <builder>               realize the build and its dependencies; prints the store path last
  check <builder>               build if needed, then run each evidence command against the result, then start
                                each service on a free port and call its health endpoint
  log <builder|store path>      the build log of an entry
  store verify                  re-hash every entry against its metadata; exit 1 on missing or corrupt ones
                                (--repair: remove each, rebuild it where a known builder makes it; exit 0 if all rebuilt)
  store push docker://host/repo <path|out-link|builder>... --key K.sec
                                upload the closure of each to a binary cache in an OCI registry, signed
  key generate K                an ed25519 signing key pair for the binary cache: K.sec (mode 0600) and K.pub
  gc                            remove entries not reachable from live out-links
  lock [--update] <builder>     pin the builder's registry base images in mb.lock.json beside it (--update: re-resolve)
  run <builder> [service]       build if needed, start the service in the foreground in its sandbox, wait for its
                                health check (--port P: the port, default the protocol's), forward SIGINT/SIGTERM
  push <builder> docker://host[:port]/repo[:tag]
                                build if needed, then push the OCI image (blobs, manifests, referrers, tags last)

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
  --substituter URL  build, check: fetch entries from this binary cache (docker://host/repo; repeatable)
  --trusted-key K    build, check: a public key (K.pub, or <name>:<base64>) cache entries must be signed by
  --key K.sec     store push: the secret key entries are signed with
  --context DIR   render dockerfile: write the build context (DIR/Dockerfile, tools.tar, ...) into DIR
  --dry-run       gc: only list what would be removed
  --repair        store verify: remove what fails, rebuild what a known builder makes
  --update        lock: resolve every registry base's tag again and rewrite the lock
  --port P        run: the port the service listens on (1-65535; default its protocol's defaultPort)
  --tag T         push: another tag to put (repeatable); --insecure: plain HTTP to a registry that is not loopback
  --debug         show stack traces
  -h, --help      this text; mb <command> --help (or mb help <command>): that command's usage
  --version       the version of mb

Environment: MB_STORE (the store), SOURCE_DATE_EPOCH (default 1; part of every store path), MB_EVAL_CACHE=0 (always
load and resolve the builder, even when its resolution is cached; builders are assumed pure functions of their files),
MB_LOAD_TIMEOUT (seconds a builder may take to load, default 30), MB_HEALTH_TIMEOUT (seconds a service may take to
answer its health check in run and check, default 30), MB_SUBSTITUTERS and MB_TRUSTED_KEYS (space-separated, when
--substituter and --trusted-key are not given), MB_SUBSTITUTER_TIMEOUT (seconds a cache may take to answer, default 5).

Exit codes: 0 fine; 1 the view found problems (diagnostics, an undeclared tool or service, a missing package),
a build, check or verification failed; 2 usage errors and builders that cannot be loaded or do not match their
schema; 130 interrupted (SIGINT or SIGTERM). mb run exits with the service's status (130 when a forwarded signal
ended it).
`;


/** Per-command usage (`mb <command> --help`, `mb help <command>`): the usage line, what it does, its options. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  validate: "Usage: mb validate [--json] <builder>\n\nChecks the program; exit 1 on diagnostics.\n",
  deps: "Usage: mb deps [--format text|json|dot|svg|mermaid] [--json] <builder>\n\nThe dependency graph (svg draws with graphviz).\n",
  "dry-run": "Usage: mb dry-run [--json] <builder>\n\nWhat each operation would do; nothing is built.\n",
  plan: "Usage: mb plan [--json] <builder>\n\nThe plan: every step rendered as the shell that runs.\n",
  describe: "Usage: mb describe [--json] <builder>\n\nSelf-documentation of the builder (markdown).\n",
  introspect: "Usage: mb introspect [--json] <builder>\n\nEvery view at once (markdown).\n",
  export: "Usage: mb export <builder>\n\nThe plan as JSON for other programs.\n",
  render:
    "Usage: mb render shell|dockerfile|nix <builder>\n       mb render dockerfile --context DIR [--store DIR] [--json] <builder>\n       mb render systemd [--dir DIR] [--no-sandbox] <builder>\n\nThe plan as a standalone bash script (it builds the builders it depends on first: bash build.sh\n[--deps DIR] [--dep NAME=PATH]... [OUT]), a Dockerfile, a Nix expression of plain derivations for\nnix-build, or a systemd unit per materialized service (--dir DIR: one <unit>.service file each, their\npaths printed).\n--context DIR: the Dockerfile's whole build context in DIR (an empty, new or earlier rendered directory):\nDIR/Dockerfile, tools.tar (the declared Debian packages and their closure), the steps and the inputs;\n`DOCKER_BUILDKIT=1 docker build --output type=local,dest=OUT DIR` or `buildah build --output\ntype=local,dest=OUT DIR` gives mb build's output tree, with no network.\n",
  path: "Usage: mb path [--json] [--store DIR] [--no-sandbox] <builder>\n\nThe store path the build will have; nothing is built.\n",
  docs: "Usage: mb docs <builder> --out DIR\n       mb docs --all <dir> --out DIR\n\nA tour page of the builder (DIR/index.md and a self-contained DIR/index.html), or with --all a page per\nbuilder folder of <dir> and an index linking them.\n",
  schema: "Usage: mb schema [name]\n\nThe JSON Schema of BuilderSpec, or of the ornament or runtime record named.\n",
  build:
    "Usage: mb build [options] <builder>\n\nRealizes the build and its dependencies in the store; prints the store path last.\n\n  --store DIR        the store (default $MB_STORE, else $XDG_CACHE_HOME/metabuilder/store)\n  --out-link P       the symlink to the result (default ./result); --no-out-link for none\n  --check            rebuild in a temporary location and report differences (reproducibility)\n  -j, --jobs N       run up to N independent builds at once (default 1)\n  --keep-failed      keep the build directory of a failed build\n  --no-sandbox       run steps without the bubblewrap sandbox (other store paths)\n  --substituter URL  fetch entries from this binary cache (docker://host/repo; repeatable; MB_SUBSTITUTERS)\n  --trusted-key K    a public key entries must be signed by (K.pub or <name>:<base64>; MB_TRUSTED_KEYS)\n  --json             one JSON progress event per line; the last is the result\n",
  check:
    "Usage: mb check [--store DIR] [-j N] [--keep-failed] [--no-sandbox] [--json] <builder>\n\nBuilds if needed, then runs each evidence command against the result, then starts each service on a free\nport and calls its health endpoint; exit 1 when any fails.\n",
  log: "Usage: mb log [--store DIR] <builder|store path>\n\nThe build log of an entry.\n",
  store:
    "Usage: mb store verify [--repair] [--json] [--store DIR]\n       mb store push docker://host[:port]/repo <path|out-link|builder>... --key K.sec [--json] [--store DIR]\n\nverify: re-hashes every entry against its metadata; exit 1 on missing or corrupt ones (--repair: remove each,\nrebuild it where a known builder makes it; exit 0 if all were rebuilt).\npush: uploads the closure of each argument to a binary cache (one OCI artifact per entry, tagged by its store\nhash, signed with K.sec), skipping entries the cache has.\n",
  key: "Usage: mb key generate K [--json]\n\nWrites an ed25519 key pair named after K's base name: K.sec (mode 0600; refused by mb when group or others\ncan read it) and K.pub (give it to builds as --trusted-key K.pub). Never overwrites a key.\n",
  gc: "Usage: mb gc [--dry-run] [--json] [--store DIR]\n\nRemoves the entries not reachable from live out-links (--dry-run: only lists them).\n",
  lock: "Usage: mb lock [--update] [--json] <builder>\n\nPins the builder's registry base images (docker://) in mb.lock.json beside the builder file, without\nbuilding: unpinned references are resolved; a lock that disagrees with the spec is an error. --update resolves\nevery tag again and rewrites the lock to exactly the spec's bases.\n",
  push:
    "Usage: mb push [--tag T ...] [--insecure] [--store DIR] [-j N] [--no-sandbox] [--json] <builder> docker://host[:port]/repo[:tag|@digest]\n\nBuilds the builder if needed, then pushes the OCI image of its result: every blob (skipped when the\nregistry has it), the manifests (an index's platforms first; SBOM and provenance artifacts after their subject,\nlisted under the referrers tag sha256-<hex>), then the tags last, so an interrupted push leaves no tag and a re-run\nresumes. Credentials: $REGISTRY_AUTH_FILE or ~/.docker/config.json `auths`; bearer tokens from the registry's realm.\nPrints the digest reference and each tag reference (--json: one event per line, the last `pushed`).\n\n  --tag T            another tag to put (repeatable)\n  --insecure         plain HTTP to a registry that is not loopback (loopback hosts always use HTTP)\n",
  run: "Usage: mb run [--port P] [-j N] [--no-sandbox] [--store DIR] <builder> [service]\n\nBuilds if needed, starts the service in the foreground in its sandbox, waits for its health check and\nforwards SIGINT/SIGTERM; exits with the service's status.\n",
};

/** The command names, for "did you mean". */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMAND_HELP);

/** `mb --version`: the version in the package's package.json. */
export function versionText(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return `mb ${pkg.version}\n`;
}
