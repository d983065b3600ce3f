/**
 * The testing ornament, over project-builder: a typed `testSuite` of named cases (`testCase`, `testSuite`, `define`),
 * `selectCase` (a case by name; an unknown name is an error naming the suite) and `runPure` (every boolean-bodied case
 * classified PASS/FAIL, any other SKIP, a throwing thunk ERROR). It adds no operations (the original's TestingBuilder).
 */
import { z } from "zod";
import { ExitCode, MbError } from "../../core/errors.js";
import { markOrnamented } from "../../core/ornamented.js";
import { storeNamed, strictObject, uniqueNames } from "../../core/strict.js";
import { parseOrThrow } from "../../core/validate-schema.js";
import { defineOrnament } from "../ornament.js";
import type { LoadedOrnament } from "../registry.js";
import { baseListArgs, ProjectBuilder, withBaseLists } from "../project-builder/index.js";

/** A test case: a name and an opaque body (a boolean to evaluate, or data a runner reads). */
export const TestCase = strictObject({
  _con: z.literal("MetaBuilderTestCase").default("MetaBuilderTestCase"),
  name: z.string().min(1),
  body: z.unknown().describe("the case's body: a boolean (runPure evaluates it) or anything a downstream runner reads"),
});
export type TestCase = z.output<typeof TestCase>;

/** A named list of test cases (names unique). */
export const TestSuite = strictObject({
  _con: z.literal("MetaBuilderTestSuite").default("MetaBuilderTestSuite"),
  name: z.string().min(1),
  cases: uniqueNames(TestCase, "test case").default([]),
});
export type TestSuite = z.output<typeof TestSuite>;

/** TestingBuilder: ProjectBuilder plus the test suite. */
export const TestingBuilder = defineOrnament({ name: "MetaBuilderTesting", base: ProjectBuilder, fields: { testSuite: TestSuite } });
export type TestingSpec = z.output<typeof TestingBuilder.schema>;

/** A validated test case. */
export function testCase(args: { name: string; body: unknown }): TestCase {
  return parseOrThrow(TestCase, { ...args, _con: "MetaBuilderTestCase" }, "testCase", "constructor.invalid");
}
/** A validated test suite (cases given plain or as test cases). */
export function testSuite(args: { name: string; cases?: readonly { name: string; body: unknown }[] }): TestSuite {
  return parseOrThrow(TestSuite, { name: args.name, cases: (args.cases ?? []).map((c) => ({ ...c, _con: "MetaBuilderTestCase" })), _con: "MetaBuilderTestSuite" }, "testSuite", "constructor.invalid");
}

/** Arguments of `define`. */
export const TestingArgs = strictObject({ langName: z.string().min(1), testSuite: TestSuite, name: storeNamed().optional(), ...baseListArgs });

/** A TestingBuilder spec (`name` defaults to `<langName>Tests`). */
export function define(args: z.input<typeof TestingArgs>): TestingSpec {
  const a = parseOrThrow(TestingArgs, args, "testing.define", "constructor.invalid");
  return markOrnamented(parseOrThrow(TestingBuilder.schema, withBaseLists(a, { name: a.name ?? `${a.langName}Tests` }), "testing.define", "constructor.invalid"), TestingBuilder.inserted);
}

/** The case of a suite named `caseName`; an unknown name is an error naming the suite. */
export function selectCase(suite: TestSuite, caseName: string): TestCase {
  const hit = suite.cases.find((c) => c.name === caseName);
  if (!hit) throw new MbError("testing.unknown-case", `testing.selectCase: unknown case '${caseName}' in suite '${suite.name}'`, { exitCode: ExitCode.usage });
  return hit;
}

/** One case's outcome in `runPure`. */
export type CaseStatus = "PASS" | "FAIL" | "SKIP" | "ERROR";
/** What `runPure` reports. */
export interface PureRun {
  readonly suite: string;
  readonly results: readonly { name: string; status: CaseStatus; pass: boolean }[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly allPass: boolean;
}

/** Classifies every case: a boolean body PASS/FAIL, a function body is called (throwing: ERROR), anything else SKIP. */
export function runPure(suite: TestSuite): PureRun {
  const results = suite.cases.map((c) => {
    let status: CaseStatus;
    try {
      const v = typeof c.body === "function" ? (c.body as () => unknown)() : c.body;
      status = typeof v !== "boolean" ? "SKIP" : v ? "PASS" : "FAIL";
    } catch {
      status = "ERROR";
    }
    return { name: c.name, status, pass: status === "PASS" };
  });
  const tally = (...s: CaseStatus[]) => results.filter((r) => s.includes(r.status)).length;
  return { suite: suite.name, results, passed: tally("PASS"), failed: tally("FAIL", "ERROR"), skipped: tally("SKIP"), allPass: results.every((r) => r.pass) };
}

/** The testing ornament as the registry loads it. */
export const testingOrnament: LoadedOrnament<typeof TestingBuilder.schema> = {
  ornament: TestingBuilder,
  example: () => define({ langName: "alpha", testSuite: testSuite({ name: "alpha-tests", cases: [{ name: "boot", body: true }] }) }),
};
