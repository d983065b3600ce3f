// The backends' demo program (every kind of step a backend translates), shared by the backend tests and the
// shellcheck test (which needs a host tool, so it runs in the e2e tier).
import * as mb from "../../src/index.js";

export const touch = mb.tool({ name: "touch", package: mb.hostPackage("coreutils") });
export const sh = mb.tool({ name: "sh", package: mb.hostPackage("dash") });
const svc = mb.service({ name: "api", package: mb.hostPackage("api") });

export const program = mb.sequence([
  mb.readSource({ name: "motd", source: mb.localSource({ name: "motd", path: "/etc/motd" }) }),
  mb.declareTool({ tool: touch }),
  mb.declareTool({ tool: sh }),
  mb.runTool({ name: "stamp", tool: touch, args: ["$out/stamp"] }),
  mb.runTool({ name: "multi", tool: sh, args: ["-c", "echo one\necho two > \"$out/two\""] }),
  mb.writeFile({ output: mb.output({ name: "hello", path: "hello.txt" }), text: "hello" }),
  mb.copyPath({ source: mb.localSource({ name: "motd", path: "/etc/motd" }), output: mb.output({ name: "motd", path: "etc/motd" }) }),
  mb.declareService({ service: svc }),
  mb.materializeUnit({ name: "api" }),
  mb.materializeDerivation({ name: "backend-demo" }),
]);
export const plan = mb.compile(program, { storeDir: "/store" });
