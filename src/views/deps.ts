/** The deps view: a graph of dependencies, tools, operations and services, nodes unique by id in first-seen order. */
import { packageInfo } from "../core/package.js";
import type { PackageRef, Service } from "../core/spec.js";
import { type Program, type OpHandlers, fold } from "../program/fold.js";
import { assertInScope } from "../program/scope.js";

/** A node of the dependency graph. */
export interface DepNode {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly tool?: string;
  readonly packageName?: string;
  readonly packageOutPath?: string | null;
}

/** An edge of the dependency graph. */
export interface DepEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: "uses-tool";
}

/** The dependency graph plus the services seen. */
export interface DepsResult {
  readonly nodes: DepNode[];
  readonly edges: DepEdge[];
  readonly services: Record<string, Service>;
}

interface State {
  readonly nodes: DepNode[];
  readonly edges: DepEdge[];
  // A Map, not an object: a service may be named like an Object.prototype property (`__proto__`, `constructor`).
  readonly services: Map<string, Service>;
  readonly ids: Set<string>;
}

function addNode(s: State, node: DepNode): State {
  if (!s.ids.has(node.id)) {
    s.ids.add(node.id);
    s.nodes.push(node);
  }
  return s;
}

function withPackage(pkg: PackageRef): { packageName: string; packageOutPath: string | null } {
  const info = packageInfo(pkg);
  return { packageName: info.packageName, packageOutPath: info.outPath };
}

const same = <S>(_op: unknown, s: S): S => s;

const handlers = {
  resolveDependency: (op, s) =>
    addNode(s, { id: `${op.dependency.role}:${op.dependency.name}`, name: op.dependency.name, role: op.dependency.role, ...withPackage(op.dependency.package) }),
  declareTool: (op, s) => addNode(s, { id: `tool:${op.tool.name}`, name: op.tool.name, role: "tool", ...withPackage(op.tool.package) }),
  runTool: (op, s) => {
    addNode(s, { id: `operation:${op.name}`, name: op.name, role: "operation", tool: op.tool.name });
    s.edges.push({ from: `tool:${op.tool.name}`, to: `operation:${op.name}`, kind: "uses-tool" });
    return s;
  },
  readSource: same,
  writeFile: same,
  copyPath: same,
  transformOutput: same,
  validateValue: same,
  emitDescriptor: same,
  materializeDerivation: same,
  declareEvidence: same,
  declareService: (op, s) => {
    s.services.set(op.service.name, op.service);
    return s;
  },
  materializeUnit: (op, s) => {
    const svc = s.services.get(op.name)!;
    return addNode(s, { id: `service:${svc.name}`, name: svc.name, role: "service", ...withPackage(svc.package) });
  },
  declareCapability: same,
  declareProtocol: same,
} satisfies OpHandlers<State>;

/** Builds the dependency graph of a program; a unit of an undeclared service is an error (exit 1). */
export function deps(program: Program): DepsResult {
  assertInScope(program, "deps", () => "deps.undeclared-service", ["service"]);
  const s = fold<State>(program, handlers, { nodes: [], edges: [], services: new Map(), ids: new Set() }, "deps");
  // Object.fromEntries defines own properties, so even a service named `__proto__` is kept.
  return { nodes: s.nodes, edges: s.edges, services: Object.fromEntries(s.services) };
}

function dotId(s: string): string {
  return JSON.stringify(s);
}

/** Draws the graph in Graphviz dot. */
export function depsToDot(g: DepsResult): string {
  const lines = ["digraph deps {", "  rankdir=LR;"];
  for (const n of g.nodes) lines.push(`  ${dotId(n.id)} [label=${dotId(`${n.id}\n(${n.role})`)}];`);
  for (const e of g.edges) lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)} [label=${dotId(e.kind)}];`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** Draws the graph as a Mermaid flowchart. */
export function depsToMermaid(g: DepsResult): string {
  const ids = new Map<string, string>();
  g.nodes.forEach((n, i) => ids.set(n.id, `n${i}`));
  const idOf = (id: string) => {
    let v = ids.get(id);
    if (!v) {
      v = `n${ids.size}`;
      ids.set(id, v);
    }
    return v;
  };
  const label = (s: string) => `"${s.replaceAll('"', "#quot;")}"`;
  const lines = ["flowchart LR"];
  for (const n of g.nodes) lines.push(`  ${idOf(n.id)}[${label(`${n.id} (${n.role})`)}]`);
  for (const e of g.edges) lines.push(`  ${idOf(e.from)} -->|${e.kind}| ${idOf(e.to)}`);
  return lines.join("\n") + "\n";
}
