/** The machine's Nix-style system string (kept in a module of its own so the cache-hit path loads nothing heavy). */

/** The Nix-style system string of this machine, e.g. `x86_64-linux`. */
export function hostSystem(): string {
  const arch = ({ x64: "x86_64", arm64: "aarch64", ia32: "i686" } as Record<string, string>)[process.arch] ?? process.arch;
  return `${arch}-${process.platform}`;
}
