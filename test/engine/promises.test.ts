// Output promises: after the last step each declared output must exist in its format (json parses, tar reads as a
// tar archive, tree/directory is a directory, elf has the ELF magic, archive the ar magic, text is UTF-8), or the
// build fails naming it. A format outside the closed set is rejected when the spec is loaded.
import { execFileSync } from "node:child_process";
import { OUTPUT_FORMATS } from "../../src/core/records.js";
import { mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { outputLocation } from "../../src/engine/outputs.js";
import { formats, promiseProblem } from "../../src/engine/formats.js";
import { blobsProblem } from "../../src/oci/engine/blobs.js";
import { createHash } from "node:crypto";
import { readTarEntries, TarError } from "../../src/engine/tar.js";
import { bashStep, building, cleanup, entries, FIXTURES, lastLine, mb, output, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

describe("output locations", () => {
  it("accept $out, $out/x and x (relative to $out), and refuse what is no output path", () => {
    expect(outputLocation("/s/o", "$out")).toBe("/s/o");
    expect(outputLocation("/s/o", "$out/index.json")).toBe("/s/o/index.json");
    expect(outputLocation("/s/o", "oci-layout")).toBe("/s/o/oci-layout");
    expect(outputLocation("/s/o", "a/./b")).toBe("/s/o/a/b");
    expect(outputLocation("/s/o", "a/./b/")).toBeNull();
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

  it("oci-blobs: every blob is named by the digest of its bytes", () => {
    const blobs = join(dir, "blobs");
    mkdirSync(join(blobs, "sha256"), { recursive: true });
    const sha = (b: string) => createHash("sha256").update(b).digest("hex");
    writeFileSync(join(blobs, "sha256", sha("one")), "one");
    const digests = new Map([[`blobs/sha256/${sha("one")}`, sha("one")]]);
    expect(promiseProblem(blobs, "oci-blobs")).toBeNull();
    expect(blobsProblem(blobs, "blobs", digests)).toBeNull();
    // A blob whose bytes are not its name, named with the digest sealing took.
    writeFileSync(join(blobs, "sha256", sha("two")), "not two");
    digests.set(`blobs/sha256/${sha("two")}`, sha("not two"));
    expect(blobsProblem(blobs, "blobs", digests)).toBe(`blob sha256:${sha("two")} has digest sha256:${sha("not two")}: its bytes do not match its name`);
    rmSync(join(blobs, "sha256", sha("two")));
    writeFileSync(join(blobs, "sha256", "short"), "x");
    expect(blobsProblem(blobs, "blobs", digests)).toBe("blob sha256:short is not named by a sha256 digest");
    mkdirSync(join(blobs, "md5"));
    expect(blobsProblem(blobs, "blobs", digests)).toBe("'md5' is not a digest algorithm (sha256, sha512)");
  });

  it("archive: an ar archive (the !<arch> magic)", () => {
    expect(promiseProblem(put("ok.a", "!<arch>\n"), "archive")).toBeNull();
    expect(promiseProblem(put("short.a", "!<arch>"), "archive")).toBe("it is not an ar archive (no !<arch> magic)");
    expect(promiseProblem(put("notes.a", "not an archive\n"), "archive")).toBe("it is not an ar archive (no !<arch> magic)");
    expect(promiseProblem(join(dir, "tree"), "archive")).toBe("it is a directory, not a file");
  });

  it("path: the output exists, file or directory", () => {
    expect(promiseProblem(put("anything", "x"), "path")).toBeNull();
    expect(promiseProblem(join(dir, "tree"), "path")).toBeNull();
  });

  it("the engine has a check for every format of the closed set, and for nothing else", () => {
    expect(Object.keys(formats).sort()).toEqual([...OUTPUT_FORMATS].sort());
  });

  it("every format: the output must exist, and a dangling symlink does not", () => {
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
    for (const format of OUTPUT_FORMATS) {
      expect(promiseProblem(join(dir, "absent"), format), format).toBe("it does not exist");
      expect(promiseProblem(join(dir, "dangling"), format), format).toBe("it is a dangling symlink");
    }
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
    expect(r.stderr).toMatch(/^mb: error: build of 'broken-promise' broke an output promise:\n {2}- output 'index' \(index\.json, json\): it does not parse as JSON/m);
    expect(entries(store)).toEqual([]);
  });

  it("oci-blobs is checked from the digests sealing takes, large blobs included (hashed by worker threads)", () => {
    const store = tempDir("store");
    // One honest blob of 9 MiB (a worker digests it) and, in the second build, one whose name lies.
    const make = (lie: boolean) =>
      writeSpec(tempDir("spec"), `blobs-${lie}.json`, spec({
        name: `blobs-${lie ? "lying" : "honest"}`,
        tools: ["bash", "coreutils"],
        ops: [bashStep("write", `mkdir -p "$out/blobs/sha256"
head -c 9437184 /dev/zero > "$TMPDIR/b"
d=$(sha256sum "$TMPDIR/b" | cut -d " " -f 1)
${lie ? 'echo tampered >> "$TMPDIR/b"\n' : ""}mv "$TMPDIR/b" "$out/blobs/sha256/$d"`)],
        outputs: [output("blobs", "$out/blobs", "oci-blobs")],
      }));
    const ok = mb(["build", make(false), "--store", store, "--no-out-link"]);
    expect(ok.status, ok.stderr).toBe(0);
    const bad = mb(["build", make(true), "--store", store, "--no-out-link"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/- output 'blobs' \(blobs, oci-blobs\): blob sha256:[0-9a-f]{64} has digest sha256:[0-9a-f]{64}: its bytes do not match its name/);
    expect(entries(store).length).toBe(1);
    expect(building(store)).toEqual([]);
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
      ],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: build of 'broken-promises' broke 6 output promises:\n");
    expect(r.stderr).toMatch(/- output 'data' \(data\.json, json\): it does not parse as JSON/);
    expect(r.stderr).toContain("- output 'image' (image.tar, tar): it does not read as a tar archive: the file is 10 bytes, shorter than one 512-byte tar block");
    expect(r.stderr).toContain("- output 'prog' (prog, elf): it is not an ELF file");
    expect(r.stderr).toContain("- output 'notes' (notes.txt, text): it is not valid UTF-8 text");
    expect(r.stderr).toContain("- output 'tree' (tree, tree): it is not a directory");
    expect(r.stderr).toContain("- output 'missing' (missing, path): it does not exist");
    expect(r.stderr).not.toContain("'good'");
    expect(entries(store)).toEqual([]);
    expect(building(store)).toEqual([]);
  });

  it("a spec promising a format outside the closed set is refused at load (exit 2), naming the field", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "unknown-format.json", spec({
      name: "unknown-format",
      tools: ["bash"],
      ops: [bashStep("write", 'echo x > "$out/x.bin"')],
      outputs: [output("blob", "$out/x.bin", "binary")],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("builder spec does not match its schema");
    expect(r.stderr).toMatch(/^ {2}- outputs\[0\]\.format: Invalid option: expected one of .*"archive"\|"oci-blobs"$/m);
    expect(entries(store)).toEqual([]);
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
