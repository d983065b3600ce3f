/** The ornaments `mb schema <ornament>` knows, by short name. */
import type { Ornament } from "./ornament.js";
import { OciImageBuilder } from "./oci-image/index.js";

/** Every built-in ornament, by the name the CLI accepts. */
export const ornaments: Readonly<Record<string, Ornament>> = {
  "oci-image": OciImageBuilder as unknown as Ornament,
};
