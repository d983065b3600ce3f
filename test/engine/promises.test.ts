// Output promises: after the last step each declared output must exist in its format (json parses, tar reads as a
// tar archive, tree/directory is a directory, elf has the ELF magic, text is UTF-8), or the build fails naming it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { outputLocation, promiseProblem } from "../../src/engine/outputs.js";
import { readTarEntries, TarError } from "../../src/engine/tar.js";
import { bashStep, building, cleanup, entries, FIXTURES, lastLine, mb, output, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

describe("output locations", () => {
  it("accept $out, $out/x and x (relative to $out), and refuse paths that leave $out", () => {
    expect(outputLocation("/s/o", "$out")).toBe("/s/o");
    expect(outputLocation("/s/o", "$out/index.json")).toBe("/s/o/index.json");
    expect(outputLocation("/s/o", "oci-layout")).toBe("/s/o/oci-layout");
    expect(outputLocation("/s/o", "a/./b/")).toBe("/s/o/a/b");
    expect(outputLocation("/s/o", "/etc/passwd")).toBeNull();
    expect(outputLocation("/s/o", "$out/../x")).toBeNull();
    expect(outputLocation("/s/o", "../x")).toBeNull();
  });
});

describe("format checks", () => {
  const dir = tempDir("formats");
  const put = (name: string, data: string | Buffer) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  mkdirSync(join(dir, "tree"));
  writeFileSync(join(dir, "tree", "a.txt"), "a");

  it("json", () => {
    expect(promiseProblem(put("ok.json", '{"a":[1]}'), "json")).toBeNull();
    expect(promiseProblem(put("bad.json", "{nope"), "json")).toMatch(/^it does not parse as JSON/);
    expect(promiseProblem(join(dir, "tree"), "json")).toBe("it is a directory, not a file");
  });

  it("tar", () => {
    const tar = join(dir, "ok.tar");
    execFileSync("tar", ["-cf", tar, "-C", dir, "tree"]);
    expect(promiseProblem(tar, "tar")).toBeNull();
    expect(promiseProblem(put("text.tar", "x".repeat(2048)), "tar")).toMatch(/^it does not read as a tar archive: header checksum mismatch at offset 0/);
    expect(promiseProblem(put("empty.tar", ""), "tar")).toBe("it does not read as a tar archive: the file is empty");
  });

  it("tree and directory", () => {
    expect(promiseProblem(join(dir, "tree"), "tree")).toBeNull();
    expect(promiseProblem(join(dir, "tree"), "directory")).toBeNull();
    expect(promiseProblem(put("file", "x"), "tree")).toBe("it is not a directory");
  });

  it("elf", () => {
    expect(promiseProblem(process.execPath, "elf")).toBeNull();
    expect(promiseProblem(put("script", "#!/bin/sh\n"), "elf")).toBe("it is not an ELF file (no \\x7fELF magic)");
  });

  it("text", () => {
    expect(promiseProblem(put("ok.txt", "héllo ✓\n"), "text")).toBeNull();
    expect(promiseProblem(put("bad.txt", Buffer.from([0x68, 0xff, 0xfe])), "text")).toBe("it is not valid UTF-8 text");
  });

  it("any format: the output must exist", () => {
    expect(promiseProblem(join(dir, "absent"), "path")).toBe("it does not exist");
    expect(promiseProblem(join(dir, "absent"), "tar")).toBe("it does not exist");
  });
});

describe("the tar reader", () => {
  const dir = tempDir("tar");
  mkdirSync(join(dir, "src", "d"), { recursive: true });
  const long = "n".repeat(120);
  writeFileSync(join(dir, "src", "d", long), "long name\n");
  writeFileSync(join(dir, "src", "big"), Buffer.alloc(70_000, 7));
  const make = (format: string) => {
    const t = join(dir, `${format}.tar`);
    execFileSync("tar", [`--format=${format}`, "--sort=name", "-cf", t, "-C", join(dir, "src"), "."]);
    return t;
  };

  it.each(["ustar", "gnu", "posix", "v7"])("reads every member of a %s archive", (format) => {
    if (format === "ustar" || format === "v7") {
      // ustar and v7 cannot hold a 120-character name: tar refuses the member but writes the rest
      const t = join(dir, `${format}.tar`);
      try {
        execFileSync("tar", [`--format=${format}`, "-cf", t, "-C", join(dir, "src"), "./big"], { stdio: "ignore" });
      } catch {
        // a warning exit is fine
      }
      expect(readTarEntries(t).map((e) => e.name)).toEqual(["./big"]);
      return;
    }
    const names = readTarEntries(make(format)).map((e) => e.name);
    expect(names).toContain("./big");
    expect(names.some((n) => n.startsWith("./d"))).toBe(true);
  });

  it("rejects a truncated archive, naming the member", () => {
    const t = make("gnu");
    const copy = join(dir, "truncated.tar");
    writeFileSync(copy, readFileSync(t));
    const offset = readFileSync(t).indexOf(Buffer.from("./big"));
    truncateSync(copy, offset + 512 + 1024);
    expect(() => readTarEntries(copy)).toThrow(TarError);
    expect(() => readTarEntries(copy)).toThrow(/member '\.\/big' at offset \d+ runs past the end of the file \(truncated archive\)/);
  });

  it("accepts an empty archive (two zero blocks)", () => {
    writeFileSync(join(dir, "empty.tar"), Buffer.alloc(1024));
    expect(readTarEntries(join(dir, "empty.tar"))).toEqual([]);
  });
});

describe("a build that breaks an output promise", () => {
  it("fails naming the output (fixture broken-promise.json)", () => {
    const store = tempDir("store");
    const r = mb(["build", join(FIXTURES, "broken-promise.json"), "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mb: error: build of 'broken-promise' broke an output promise:\n {2}- output 'index' \(\$out\/index\.json, json\): it does not parse as JSON/m);
    expect(entries(store)).toEqual([]);
  });

  it("fails naming every broken output, and nothing enters the store", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "broken.json", spec({
      name: "broken-promises",
      tools: ["bash"],
      ops: [bashStep("write", 'echo "not json" > "$out/data.json"\necho "not a tar" > "$out/image.tar"\necho "#!/bin/sh" > "$out/prog"\nprintf "\\377\\376" > "$out/notes.txt"\necho file > "$out/tree"\necho "[1]" > "$out/good.json"')],
      outputs: [
        output("data", "$out/data.json", "json"),
        output("image", "image.tar", "tar"),
        output("prog", "$out/prog", "elf"),
        output("notes", "notes.txt", "text"),
        output("tree", "$out/tree", "tree"),
        output("missing", "$out/missing", "path"),
        output("good", "good.json", "json"),
        output("outside", "/etc/hostname", "text"),
      ],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: build of 'broken-promises' broke 7 output promises:\n");
    expect(r.stderr).toMatch(/- output 'data' \(\$out\/data\.json, json\): it does not parse as JSON/);
    expect(r.stderr).toContain("- output 'image' (image.tar, tar): it does not read as a tar archive: the file is 10 bytes, shorter than one 512-byte tar block");
    expect(r.stderr).toContain("- output 'prog' ($out/prog, elf): it is not an ELF file");
    expect(r.stderr).toContain("- output 'notes' (notes.txt, text): it is not valid UTF-8 text");
    expect(r.stderr).toContain("- output 'tree' ($out/tree, tree): it is not a directory");
    expect(r.stderr).toContain("- output 'missing' ($out/missing, path): it does not exist");
    expect(r.stderr).toContain("- output 'outside' (/etc/hostname, text): its path is outside $out");
    expect(r.stderr).not.toContain("'good'");
    expect(entries(store)).toEqual([]);
    expect(building(store)).toEqual([]);
  });

  it("a build keeping its promises (file at $out itself included) succeeds", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "kept.json", spec({
      name: "single-file",
      tools: ["bash", "coreutils"],
      ops: [bashStep("write", 'rmdir "$out"\necho "{}" > "$out"')],
      outputs: [output("whole", "$out", "json")],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(lastLine(r.stdout), "utf8")).toBe("{}\n");
  });
});
