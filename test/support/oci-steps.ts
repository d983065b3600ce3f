// The plan step names of a single-layer oci-image program (reference section 6), shared by the suites that pin them.

/** The 9 step names for one layer called `layer`, in order. */
export function ociStepNames(layer: string): string[] {
  return [
    "write:oci-layout",
    `assemble-rootfs-${layer}`,
    `tar-layer-${layer}`,
    "write-config",
    "write-manifest",
    "write-index",
    "verify-blobs",
    "clean-scratch",
    "archive-layout",
  ];
}
