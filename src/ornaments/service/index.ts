/**
 * The service vocabulary (the original's service ornament): `define` checks a service (no protocol may lack a
 * capability it claims, unless another carries them all) and lowers it, in the original's order, to one
 * declareCapability per category, one declareProtocol per protocol, declareService and materializeUnit.
 */
import { z } from "zod";
import * as C from "../../program/constructors.js";
import { serviceDescriptor, type Operation } from "../../core/operations.js";
import { compatibility } from "../../core/runtime.js";
import type { Service } from "../../core/spec.js";
import { sequence, type Program } from "../../program/program.js";

/** Arguments of `define`: a service's fields (`_con` optional). */
export type ServiceArgs = Omit<z.input<typeof Service>, "_con">;

/** A defined service and the operations that declare and materialize it, ready for a spec's `operations`. */
export interface ServiceDefinition {
  readonly service: Service;
  readonly operations: Operation[];
}

/** The service's operations, in the original's order: categories, protocols, the service, its unit. */
export function operationsFor(service: Service): Operation[] {
  return [
    ...service.capabilities.categories.map((category) => C.declareCapability({ category })),
    ...service.protocols.map((protocol) => C.declareProtocol({ protocol })),
    C.declareService({ service }),
    C.materializeUnit({ name: service.name }),
  ];
}

/** Builds the typed service (failing when no protocol carries every capability it claims) and its operations. */
export function define(args: ServiceArgs): ServiceDefinition {
  const service = C.service(args);
  return { service, operations: operationsFor(service) };
}

/** The program of a service definition, or of the arguments to `define`. */
export function program(defOrArgs: ServiceDefinition | ServiceArgs): Program {
  const def = "operations" in defOrArgs && "service" in defOrArgs ? defOrArgs : define(defOrArgs as ServiceArgs);
  return sequence(def.operations);
}

/** The service vocabulary under the original's names. */
export const service = {
  define,
  operationsFor,
  program,
  compatibility,
  /** The service as JSON (its package left out), as its runtime artifact holds it. */
  descriptor: serviceDescriptor,
} as const;
