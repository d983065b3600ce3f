// Shared checks for the vocabulary's lowerings: the ornament law (compile(forget(spec)) = compile(spec)) and the
// differential between dry-run and the plan (the same run/write/copy steps, in the same order).
import { expect } from "vitest";
import * as mb from "../../src/index.js";

/** The plan step name a dry-run step stands for, or null for a step that is not a plan step. */
export const planName = (s: mb.DryRunStep): string | null =>
  s.kind === "run" ? s.name : s.kind === "write" ? `write:${s.path}` : s.kind === "copy" ? `copy:${s.to}` : null;

/** Asserts that dry-run and the plan agree on a program: one dry-run step per operation, the plan's steps in order. */
export function dryRunAgreesWithPlan(program: mb.Program): void {
  const dry = mb.dryRun(program).steps;
  expect(dry).toHaveLength(program.operations.length);
  const plan = mb.compile(program);
  expect(plan.steps.map((s) => s.name)).toEqual(dry.map(planName).filter((n) => n !== null));
  expect(mb.planView(program).steps.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
}
