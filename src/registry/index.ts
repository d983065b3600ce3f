/** The OCI distribution client (engine layer: it reaches the network): references, auth, and RegistryClient. */
export { parseReference, canonicalRegistry, formatReference, referenceText, isLoopback, registryBaseUrl, isOciDigest, ociDigest, isTag, DOCKER_HUB } from "./reference.js";
export type { ImageReference, OciDigest } from "./reference.js";
export { RegistryClient, MANIFEST_ACCEPT } from "./client.js";
export type { Manifest, ManifestHead, BlobPush, PushBlobOptions } from "./client.js";
export { BlobLocations, blobLocationsFile, BLOB_LOCATIONS_FILE, MAX_REPOSITORIES } from "./blob-locations.js";
export type { RegistryOptions } from "./session.js";
export { findCredentials, authFiles, credentialSources, credentialSourceIn, parseAuthFile, helperServerUrl, parseChallenge } from "./auth.js";
export type { Credentials, CredentialSource, HelperLookup, Challenge } from "./auth.js";
export { runCredentialHelper, helperCredentials, helperTimeoutMs, parseHelperAnswer, DEFAULT_HELPER_TIMEOUT_MS } from "./credential-helper.js";
export { pushLayout } from "./push.js";
export type { PushEvent, PushOptions, PushResult } from "./push.js";
