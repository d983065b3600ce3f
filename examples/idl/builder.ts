// The original's idl example: fromProtobuf over schema.proto (message Greeting, service GreetingService) for C++ and
// Java with Debian's protoc. The proto lies in proto/, imported by content (a path package), so the generated files
// keep their names (cpp/schema.pb.h, cpp/schema.pb.cc, java/metabuilder/example/Schema.java) and store paths do not
// depend on where the repository lies. Beyond the original, the evidence compiles the generated C++ with g++ against
// Debian's libprotobuf-dev (g++ and binutils are declared for it: evidence runs with the build's tools).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { declareTool, evidence, ExitCode, fromOrnamentedSpec, MbError, fromProtobuf, hostPackage, IdlBuilder, markOrnamented, pathPackage, tool } from "metabuilder";

const protoDir = fileURLToPath(new URL("./proto", import.meta.url));
// The proto must exist: checked when the builder loads, so nothing runs without it (exit 2).
if (!existsSync(`${protoDir}/schema.proto`)) {
  throw new MbError("input.missing", `fromProtobuf: protos[0]: '${protoDir}/schema.proto' does not exist`, { exitCode: ExitCode.usage, issues: [{ path: ["protos", 0], message: "does not exist" }] });
}
const generated = fromProtobuf({ name: "example-idl", protos: [{ root: pathPackage(protoDir, "proto"), file: "schema.proto" }], languages: ["cpp", "java"] });

const gxx = tool({ name: "g++", package: hostPackage("g++") });
const binutils = tool({ name: "as", package: hostPackage("binutils") });
const compiles = evidence({
  name: "cpp-compiles",
  payload: {
    command: 'g++ -std=c++17 -c "$out"/cpp/schema.pb.cc -I"$out"/cpp -o /tmp/schema.pb.o && echo cpp compiles',
    expectedOutput: "cpp compiles",
  },
});

export const spec = markOrnamented(
  {
    ...generated,
    tools: [...generated.tools, gxx, binutils],
    operations: [...generated.operations.slice(0, -1), declareTool({ tool: gxx }), declareTool({ tool: binutils }), generated.operations.at(-1)!],
    evidence: [compiles],
  },
  IdlBuilder.inserted,
);

export default fromOrnamentedSpec(IdlBuilder, spec);
