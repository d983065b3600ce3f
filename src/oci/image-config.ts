/**
 * The image config fields beyond the original's (issue 12, item 3): workingDir, user, volumes, stopSignal, annotations,
 * the `org.opencontainers.image.*` metadata, named tags, and per-layer file ownership and modes. One zod schema each,
 * shared by `ociImage`'s arguments and the oci-image spec, so a JSON spec is refused at the same path as the constructor.
 */
import { z } from "zod";
import { strictObject } from "../core/strict.js";

/** An absolute path inside the image: starts with `/`, no `.` or `..` components, no NUL. */
const ABSOLUTE = /^\/(?:[^/\0]+(?:\/[^/\0]+)*)?\/?$/;
const noDots = (p: string): boolean => !p.split("/").some((c) => c === "." || c === "..");
const absolutePath = (what: string) =>
  z
    .string()
    .regex(ABSOLUTE, `${what} is an absolute path inside the image (it starts with '/')`)
    .refine(noDots, `${what} has no '.' or '..' components`);

/** The config's WorkingDir: an absolute path inside the image. */
export const WorkingDir = absolutePath("workingDir").describe("The image config's WorkingDir: an absolute path inside the image.");

const USER_NAME = "[A-Za-z_][A-Za-z0-9_.-]*";
/** The user forms the config's User takes here: `name`, `uid`, `uid:gid` or `name:group`. */
const USER = new RegExp(`^(?:${USER_NAME}(?::${USER_NAME})?|[0-9]+(?::[0-9]+)?)$`);
/** The config's User: one of the four forms above, anything else refused (`uid:group` and `name:gid` too). */
export const User = z
  .string()
  .regex(USER, "user is 'name', 'uid', 'uid:gid' or 'name:group' (names start with a letter or '_'; ids are decimal)")
  .describe("The image config's User: `name`, `uid`, `uid:gid` or `name:group`.");

/** Volumes: absolute paths, each once. */
export const Volumes = z
  .array(absolutePath("a volume"))
  .refine((v) => new Set(v).size === v.length, "volumes are listed once each")
  .describe("The image config's Volumes: absolute paths (written as {\"/data\":{}}).");

/** StopSignal: a signal name (`SIGTERM`, `SIGRTMIN+3`) or number (1 to 64). */
export const StopSignal = z
  .string()
  .regex(/^(?:SIG[A-Z][A-Z0-9]*(?:[+-][0-9]+)?|[1-9][0-9]?)$/, "stopSignal is a signal name such as 'SIGTERM' or a number from 1 to 64")
  .refine((s) => !/^[0-9]+$/.test(s) || Number(s) <= 64, "stopSignal is a signal name such as 'SIGTERM' or a number from 1 to 64")
  .describe("The image config's StopSignal: a signal name (SIGTERM) or number.");

/** Annotation keys are non-empty; values are strings. */
export const Annotations = z
  .record(z.string().min(1, "annotation keys are non-empty"), z.string())
  .describe("Annotations of the image manifest and of its descriptors in index.json.");

/** The `org.opencontainers.image.*` keys the pre-defined-annotations section of the image-spec names, by their short name. */
export const OCI_METADATA_KEYS = ["title", "description", "version", "revision", "source", "url", "documentation", "vendor", "licenses", "authors", "base.name", "base.digest"] as const;
/** `metadata`: the pre-defined annotation values, by short name (`version` is `org.opencontainers.image.version`). */
export const OciMetadata = strictObject(
  Object.fromEntries(OCI_METADATA_KEYS.map((k) => [k, z.string().min(1).optional().describe(`org.opencontainers.image.${k}`)])) as Record<
    (typeof OCI_METADATA_KEYS)[number],
    z.ZodOptional<z.ZodString>
  >,
).describe("Pre-defined org.opencontainers.image.* values; each given one becomes a label and a manifest annotation (explicit labels and annotations win).");
export type OciMetadata = z.infer<typeof OciMetadata>;

/** The labels or annotations a metadata record gives: `org.opencontainers.image.<key>` for each given key, sorted. */
export function metadataEntries(m: OciMetadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of OCI_METADATA_KEYS) {
    const v = m?.[k];
    if (v !== undefined) out[`org.opencontainers.image.${k}`] = v;
  }
  return out;
}

// Docker's reference grammar: an optional registry host (with port), path components, and a tag.
const HOST = "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?";
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
/** A named tag: `repository:tag`, the repository as Docker's reference grammar writes it (an optional registry host). */
export const NAMED_TAG = new RegExp(`^${HOST}${COMPONENT}(?:/${COMPONENT})*:${TAG}$`);
/** A bare tag (`tag: "1.0"` names `<name>:1.0`). */
export const TagName = z.string().regex(new RegExp(`^${TAG}$`), "a tag is letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')");
/** Named tags, each a full `name:tag` reference, listed once. */
export const ImageTags = z
  .array(z.string().regex(NAMED_TAG, "tags are 'name:tag' references, e.g. 'registry.example:5000/app:1.0' (lower-case repository, tag of letters, digits, '_', '.', '-')"))
  .min(1, "tags lists at least one 'name:tag' (leave it out for none)")
  .refine((t) => new Set(t).size === t.length, "tags are listed once each")
  .describe("Named tags: each becomes an index.json descriptor (org.opencontainers.image.ref.name) and a docker-archive RepoTag.");

/** The ustar header's largest id (seven octal digits). */
export const MAX_TAR_ID = 0o7777777;
const TarId = (what: string) =>
  z
    .number({ error: `${what} is a non-negative integer` })
    .int(`${what} is a non-negative integer`)
    .min(0, `${what} is a non-negative integer`)
    .max(MAX_TAR_ID, `${what} is at most ${MAX_TAR_ID} (a tar header's seven octal digits)`);

/** A path or glob inside the layer: absolute; `*` and `?` match within one component, `**` across components. */
const FilePattern = absolutePath("a files path").describe("An absolute path, or a glob: '*' and '?' within a component, '**' across components.");

/** Ownership and mode of the layer members a path or glob matches, set in the layer tar's headers. */
export const OciFileMeta = strictObject({
  path: FilePattern,
  uid: TarId("uid").optional().describe("Owner uid written in the tar header."),
  gid: TarId("gid").optional().describe("Group gid written in the tar header."),
  mode: z
    .string()
    .regex(/^[0-7]{3,4}$/, "mode is an octal string of 3 or 4 digits, such as '755' or '1777'")
    .optional()
    .describe("Permission bits (with setuid, setgid, sticky) as an octal string, e.g. '1777'."),
}).refine((f) => f.uid !== undefined || f.gid !== undefined || f.mode !== undefined, "a files entry sets at least one of uid, gid and mode");
export type OciFileMeta = z.infer<typeof OciFileMeta>;

/** A layer's `files`: rules applied in order after the `/tmp` default. */
export const LayerFiles = z
  .array(OciFileMeta)
  .describe("Per-member ownership and modes, applied in order (a later match wins per field); '/tmp' is 1777 first, by default.");

/** What every layer with `files` gets first: `/tmp` sticky and world-writable (a later entry can change it). */
export const DEFAULT_FILE_META: readonly OciFileMeta[] = [{ path: "/tmp", mode: "1777" }];
