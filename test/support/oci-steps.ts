// The plan step names of an oci-image program (reference section 6), shared by the suites that pin them.

/** The step names for layers with these names, in order (9 for one layer). */
export function ociStepNames(...layers: string[]): string[] {
  return [
    "write:oci-layout",
    ...layers.flatMap((l) => [`assemble-rootfs-${l}`, `tar-layer-${l}`]),
    "write-config",
    "write-manifest",
    "write-index",
    "verify-blobs",
    "clean-scratch",
    "archive-layout",
  ];
}
