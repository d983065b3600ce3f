// The acceptance build: `mb build examples/oci-image` realizes the busybox rootfs, then the OCI layout (oci-layout,
// index.json, blobs/sha256/*, image.oci.tar); a second build is a cache hit that runs nothing; `mb check` runs the
// image's evidence through the OCI runner.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTarEntries } from "../../src/engine/tar.js";
import { cleanup, entries, events, lastLine, mb, ROOT, tempDir } from "./helpers.js";

afterAll(cleanup);

const EXAMPLE = join(ROOT, "examples/oci-image");

describe("mb build examples/oci-image", () => {
  const store = tempDir("store");
  const work = tempDir("work");

  it("realizes the rootfs, then produces the OCI layout, and links ./result", () => {
    const r = mb(["build", EXAMPLE, "--store", store, "--json"], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    const evs = events(r.stdout);
    expect(evs.filter((e) => e.event === "build-done").map((e) => (e as { name: string }).name)).toEqual(["busybox-static-rootfs", "busybox-shell-oci-image"]);
    const path = (evs.at(-1) as { storePath: string }).storePath;
    expect(path).toBe(mb(["path", EXAMPLE, "--store", store]).stdout.trim());
    expect(readlinkSync(join(work, "result"))).toBe(path);

    expect(readdirSync(path).sort()).toEqual(["blobs", "image.oci.tar", "index.json", "oci-layout"]);
    expect(JSON.parse(readFileSync(join(path, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(readFileSync(join(path, "index.json"), "utf8"));
    expect(index.schemaVersion).toBe(2);
    const blobs = readdirSync(join(path, "blobs", "sha256"));
    expect(blobs.length).toBeGreaterThanOrEqual(3); // layer, config, manifest
    for (const b of blobs) expect(createHash("sha256").update(readFileSync(join(path, "blobs", "sha256", b))).digest("hex")).toBe(b);
    expect(index.manifests[0].digest).toBe(`sha256:${blobs.find((b) => index.manifests[0].digest.endsWith(b))}`);
    const members = readTarEntries(join(path, "image.oci.tar")).map((e) => e.name);
    expect(members).toContain("./index.json");
    expect(members).toContain("./oci-layout");

    const rootfs = join(store, entries(store).find((n) => n.endsWith("-busybox-static-rootfs"))!);
    expect(statSync(join(rootfs, "bin", "busybox")).mode & 0o7777).toBe(0o555);
    expect(lstatSync(join(rootfs, "bin", "sh")).isSymbolicLink()).toBe(true);
  });

  it("a second build is a cache hit that runs no step", () => {
    const r = mb(["build", EXAMPLE, "--store", store, "--json"], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    const evs = events(r.stdout);
    expect(evs.some((e) => e.event === "step-start" || e.event === "build-start")).toBe(false);
    expect(evs.find((e) => e.event === "cached")).toMatchObject({ name: "busybox-shell-oci-image" });
    const plain = mb(["build", EXAMPLE, "--store", store], { cwd: work });
    expect(plain.stdout).toBe(`${readlinkSync(join(work, "result"))}\n`);
    expect(lastLine(plain.stdout)).toBe((evs.at(-1) as { storePath: string }).storePath);
  });

  it("mb check runs the image's evidence inside the image", () => {
    const r = mb(["check", EXAMPLE, "--store", store]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok      smoke-test: output "oci-smoke-ok"\n');
  });

  it("the store verifies", () => {
    expect(mb(["store", "verify", "--store", store]).status).toBe(0);
  });
});
