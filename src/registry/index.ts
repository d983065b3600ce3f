/** The OCI distribution client (engine layer: it reaches the network): references, auth, and RegistryClient. */
export { parseReference, formatReference, referenceText, isLoopback, registryBaseUrl, isOciDigest, ociDigest, DOCKER_HUB } from "./reference.js";
export type { ImageReference, OciDigest } from "./reference.js";
export { RegistryClient, MANIFEST_ACCEPT } from "./client.js";
export type { Manifest, ManifestHead, BlobPush } from "./client.js";
export type { RegistryOptions } from "./session.js";
export { findCredentials, authFiles, parseChallenge } from "./auth.js";
export type { Credentials, Challenge } from "./auth.js";
