/** How `ociImage` lowers a base: the import-base step and write-config over the base, from the fields the spec gives. */
import type { Operation } from "../../core/operations.js";
import type { StepContext } from "../steps/common.js";
import type { ImageConfig } from "../steps/documents.js";
import type { StepLayer } from "../steps/layer.js";
import { baseConfigStep, importBaseStep, type ConfigOverrides } from "../steps/base.js";
import type { OciBase } from "./reference.js";

/** The image fields `ociImage` had, parsed, and which of them the caller gave (the others are inherited from the base). */
export interface BaseImage extends ImageConfig {
  readonly given: ReadonlySet<string>;
}

const asSet = (xs: readonly string[]): Record<string, Record<string, never>> => Object.fromEntries([...new Set(xs)].sort().map((x) => [x, {}]));

/** The config fields the spec sets over its base: each field given (labels and metadata: when any), in image-spec names. */
export function configOverrides(image: BaseImage): ConfigOverrides {
  const g = image.given;
  return {
    ...(g.has("entrypoint") ? { Entrypoint: image.entrypoint } : {}),
    ...(g.has("cmd") ? { Cmd: image.cmd } : {}),
    ...(g.has("env") ? { Env: image.env } : {}),
    ...(g.has("exposedPorts") ? { ExposedPorts: asSet(image.exposedPorts) } : {}),
    ...(Object.keys(image.labels).length > 0 ? { Labels: image.labels } : {}),
    ...(image.workingDir === undefined ? {} : { WorkingDir: image.workingDir }),
    ...(image.user === undefined ? {} : { User: image.user }),
    ...(image.volumes === undefined ? {} : { Volumes: asSet(image.volumes) }),
    ...(image.stopSignal === undefined ? {} : { StopSignal: image.stopSignal }),
  };
}

/** The two steps a base adds: import-base (before the layers) and write-config (in place of the plain one). */
export function baseSteps(ctx: StepContext, base: OciBase, image: BaseImage, layers: readonly StepLayer[]): { importStep: Operation; configStep: Operation } {
  return {
    importStep: importBaseStep(ctx, base, { os: image.os, architecture: image.architecture }, layers.length),
    configStep: baseConfigStep(ctx, { architecture: image.architecture, os: image.os, ...(image.variant === undefined ? {} : { variant: image.variant }), created: image.created, config: configOverrides(image) }, layers),
  };
}
