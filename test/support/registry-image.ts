// A file's fixture for registry tests: a registry on loopback (anonymous) and examples/oci-image built into a fresh
// store, made before the file's tests and removed after; `set` hands the three to the file's variables.
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { mbBuild } from "./mb.js";
import { startRegistry, type TestRegistry } from "./registry.js";
import { tempDirs } from "./temp-dirs.js";

export function registryWithImage(prefix: string, set: (reg: TestRegistry, store: string, layout: string) => void): ReturnType<typeof tempDirs> {
  const dirs = tempDirs(prefix);
  let reg: TestRegistry | undefined;
  beforeAll(async () => {
    reg = await startRegistry();
    const store = join(dirs.tempDir("store"), "store");
    set(reg, store, mbBuild("examples/oci-image", store));
  });
  afterAll(async () => {
    await reg?.stop();
    dirs.removeAll();
  });
  return dirs;
}
