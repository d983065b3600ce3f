/**
 * The deps view: a graph of dependencies, tools, operations and the runtime side (capability categories, protocols,
 * services), nodes unique by id in first-seen order. Beyond the original (whose graph holds services only), a
 * protocol `carries` its capabilities, and a service `speaks` its protocols and `provides` its capabilities.
 */
import { packageInfo } from "../core/package.js";
import type { CapabilitySet, Protocol } from "../core/runtime.js";
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
  readonly kind: DepEdgeKind;
}

/** What an edge says: a tool used by an operation, capabilities a protocol carries, a service's protocols and capabilities. */
export type DepEdgeKind = "uses-tool" | "carries" | "speaks" | "provides";

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
  /** `from`, `to` and `kind` of every edge, so a repeated edge is found in constant time (the view stays linear). */
  readonly edgeKeys: Set<string>;
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

/** The capability nodes of a set: one per category, one per custom capability. */
function capabilityNodes(set: CapabilitySet): DepNode[] {
  return [
    ...set.categories.map((c) => ({ id: `capability:${c.name}`, name: c.name, role: "capability" })),
    ...set.custom.map((c) => ({ id: `capability:${c.name}`, name: c.name, role: "capability" })),
  ];
}

/** Adds `from -> to` once (a protocol met twice carries its capabilities once). */
function addEdge(s: State, edge: DepEdge): State {
  const key = `${edge.from}\0${edge.to}\0${edge.kind}`;
  if (!s.edgeKeys.has(key)) {
    s.edgeKeys.add(key);
    s.edges.push(edge);
  }
  return s;
}

/** A protocol node and its `carries` edges to its capabilities. */
function addProtocol(s: State, p: Protocol): string {
  const id = `protocol:${p.name}`;
  addNode(s, { id, name: p.name, role: "protocol" });
  for (const c of capabilityNodes(p.capabilities)) addEdge(addNode(s, c), { from: id, to: c.id, kind: "carries" });
  return id;
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
    const id = `service:${svc.name}`;
    addNode(s, { id, name: svc.name, role: "service", ...withPackage(svc.package) });
    for (const p of svc.protocols) addEdge(s, { from: id, to: addProtocol(s, p), kind: "speaks" });
    for (const c of capabilityNodes(svc.capabilities)) addEdge(addNode(s, c), { from: id, to: c.id, kind: "provides" });
    return s;
  },
  declareCapability: (op, s) => addNode(s, { id: `capability:${op.category.name}`, name: op.category.name, role: "capability" }),
  declareProtocol: (op, s) => (addProtocol(s, op.protocol), s),
} satisfies OpHandlers<State>;

/** Builds the dependency graph of a program; a unit of an undeclared service is an error (exit 1). */
export function deps(program: Program): DepsResult {
  assertInScope(program, "deps", () => "deps.undeclared-service", ["service"]);
  const s = fold<State>(program, handlers, { nodes: [], edges: [], services: new Map(), ids: new Set(), edgeKeys: new Set() }, "deps");
  // Object.fromEntries defines own properties, so even a service named `__proto__` is kept.
  return { nodes: s.nodes, edges: s.edges, services: Object.fromEntries(s.services) };
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
