// The `--context` Dockerfile backend (src/backends/dockerfile-context.ts), pure: the multi-stage Dockerfile and the
// files it runs, for the backends' demo plan and a dependency stage; what it refuses. BuildKit and buildah build
// real contexts in test/engines/dockerfile-buildkit.test.ts and dockerfile-buildah.test.ts.
import { describe, expect, it } from "vitest";
import * as mb from "../../src/index.js";
import { plan } from "../support/backend-demo.js";

const dep = mb.compile(mb.sequence([mb.materializeDerivation({ name: "dep" })]), { storeDir: "/store" });
const DEP = "/store/0000000000000000000000000000000a-dep";
const ROOT = "/store/0000000000000000000000000000000b-backend-demo";
const MOTD = "/store/0000000000000000000000000000000c-motd";
const key = Object.keys(plan.pathMap)[0]!;

const builds: mb.ContextBuild[] = [
  { plan: dep, storePath: DEP, needs: [], entries: [], inputStore: {} },
  { plan, storePath: ROOT, needs: [DEP], entries: [MOTD], inputStore: { [key]: MOTD } },
];

describe("renderDockerfileContext", () => {
  it("writes one stage per build on the tools image, the output alone in the last stage", () => {
    const r = mb.renderDockerfileContext(builds, { sourceDateEpoch: 7 });
    expect(r.dockerfile.replaceAll(key, "<key>").replaceAll(plan.runtimeArtifacts[0]!.storePath, "<artifact>")).toMatchInlineSnapshot(`
      "# metabuilder: backend-demo -> /store/0000000000000000000000000000000b-backend-demo
      # Built by: DOCKER_BUILDKIT=1 docker build --output type=local,dest=OUT .  or  buildah build --output type=local,dest=OUT .
      FROM scratch AS tools
      ADD ["tools.tar", "/"]
      COPY ["mb/step.sh", "mb/seal.sh", "/mb/"]
      ENV PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" LC_ALL="C" SOURCE_DATE_EPOCH="7" HOME="/homeless-shelter" TMPDIR="/mb/tmp"
      WORKDIR /mb/build

      # stage 1/2: dep -> /store/0000000000000000000000000000000a-dep
      FROM tools AS dep0
      COPY ["mb/0/", "/mb/0/"]
      ENV out="/store/0000000000000000000000000000000a-dep"
      RUN ["bash", "/mb/seal.sh", "prepare", "0"]
      RUN ["bash", "/mb/seal.sh", "seal"]

      # stage 2/2: backend-demo -> /store/0000000000000000000000000000000b-backend-demo
      FROM tools AS build
      COPY ["mb/1/", "/mb/1/"]
      COPY --from=dep0 ["/store/0000000000000000000000000000000a-dep", "/store/0000000000000000000000000000000a-dep"]
      COPY ["store/0000000000000000000000000000000c-motd", "/store/0000000000000000000000000000000c-motd"]
      ENV out="/store/0000000000000000000000000000000b-backend-demo"
      ENV <key>="/store/0000000000000000000000000000000c-motd"
      RUN ["bash", "/mb/seal.sh", "prepare", "1"]
      RUN ["bash", "/mb/step.sh", "1", "0"]
      RUN ["bash", "/mb/step.sh", "1", "1"]
      RUN ["bash", "/mb/step.sh", "1", "2"]
      RUN ["bash", "/mb/step.sh", "1", "3"]
      RUN ["bash", "/mb/seal.sh", "seal"]
      # runtime artifact service:api (copied into the stages that read it): <artifact>

      # the output: /store/0000000000000000000000000000000b-backend-demo, and nothing else
      FROM scratch
      COPY --from=build ["/store/0000000000000000000000000000000b-backend-demo/", "/"]
      "
    `);
  });

  it("puts each step's shell, one-line name, the step count and the entries to canonicalize in context files", () => {
    const r = mb.renderDockerfileContext(builds, { sourceDateEpoch: 1, stepShell: (s, shell) => `# guarded ${s._con}\n${shell}` });
    const file = (p: string) => r.files.find((f) => f.path === p)?.text;
    expect(r.files.map((f) => f.path)).toEqual([
      "mb/step.sh", "mb/seal.sh",
      "mb/0/entries", "mb/0/steps/count",
      "mb/1/entries", "mb/1/steps/count",
      "mb/1/steps/0.sh", "mb/1/steps/0.name", "mb/1/steps/1.sh", "mb/1/steps/1.name", "mb/1/steps/2.sh", "mb/1/steps/2.name", "mb/1/steps/3.sh", "mb/1/steps/3.name",
    ]);
    expect(file("mb/1/entries")).toBe(`${DEP}\n${MOTD}\n`);
    expect(file("mb/1/steps/count")).toBe("4\n");
    expect(file("mb/1/steps/0.sh")).toBe(`# guarded runStep\n${mb.renderStep(plan.steps[0]!)}\n`);
    expect(file("mb/1/steps/2.name")).toBe("write:hello.txt\n");
    expect(r.files.every((f) => f.mode === 0o444)).toBe(true);
  });

  it("refuses a foreign builder and a store path a COPY cannot carry, naming each", () => {
    const foreign = mb.compile(mb.sequence([mb.materializeDerivation({ name: "go", builder: "buildGoModule" })]), { storeDir: "/store" });
    expect(() => mb.renderDockerfileContext([{ plan: foreign, storePath: "/st*re/0000000000000000000000000000000d-go", needs: [], entries: [], inputStore: {} }], { sourceDateEpoch: 1 })).toThrow(
      expect.objectContaining({
        code: "backend.unsupported",
        exitCode: mb.ExitCode.problems,
        message:
          "dockerfile backend (--context): unsupported:\n  - builder 'buildGoModule' of 'go' has no Dockerfile translation (only runCommand semantics)\n" +
          `  - store path "/st*re/0000000000000000000000000000000d-go": base name "st*re" holds a control character, '\\' or a glob character (*?[]), which a COPY source cannot carry`,
      }),
    );
  });
});
