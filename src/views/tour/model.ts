/** The tour page model (`mb docs`): a page is data, sections of blocks, rendered by ./markdown.ts and ./html.ts. */

/** A block of a tour section. Inline text marks code spans with backticks, as the views' markdown does. */
export type TourBlock =
  | { readonly kind: "p"; readonly text: string }
  | { readonly kind: "list"; readonly items: readonly string[]; readonly ordered?: boolean }
  | { readonly kind: "code"; readonly lang: string; readonly text: string; readonly caption?: string }
  | { readonly kind: "svg"; readonly svg: string; readonly caption: string };

/** A section of a tour page: a heading (level 2, or 3 under "One build, many views") and its blocks. */
export interface TourSection {
  readonly id: string;
  readonly level: 2 | 3;
  readonly title: string;
  readonly blocks: readonly TourBlock[];
}

/** A tour page: its title, lead paragraphs and sections in the seed page's order. */
export interface TourPage {
  readonly title: string;
  readonly lead: readonly TourBlock[];
  readonly sections: readonly TourSection[];
}

/** A file shown under "Source files" (the builder module first). */
export interface TourSource {
  readonly path: string;
  readonly text: string;
}

/** The built result, when the builder's store entry exists. */
export interface TourResult {
  /** The store path the build has (null: some package or input is missing, so it is not known). */
  readonly storePath: string | null;
  /** Whether the entry exists in the store. */
  readonly built: boolean;
  /** One line per file of the entry (`path (N bytes)`, `dir/`, `link -> target`), when built. */
  readonly listing: readonly string[];
  /** Entries left out of the listing (it is capped). */
  readonly more: number;
}

/** What the CLI gathered for a page: nothing here is read by the pure layer itself. */
export interface TourFacts {
  /** The page title, e.g. `oci image example`. */
  readonly title: string;
  /** How the commands on the page name the builder (`examples/oci-image`). */
  readonly builderArg: string;
  /** The builder module and the files beside it, as text. */
  readonly sources: readonly TourSource[];
  /** The exported spec as JSON text (null: the builder exports a program). */
  readonly specJson: string | null;
  /** The ornament whose fields the spec carries, if any. */
  readonly ornament: string | null;
  /** The dependency graph drawn by `dot -Tsvg` (the SVG element), or null. */
  readonly svg: string | null;
  readonly result: TourResult;
}

/** The headings of a tour page in order, as the seed page has them (then Evidence and Results). */
export const TOUR_SECTIONS = ["Start from the artifact", "Source files", "Builder vocabulary", "Program walkthrough", "One build, many views", "Evidence", "Results"] as const;

/** A section id from its title. */
export const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "section";
/** A string on one line (line breaks become spaces), for headings and list items. */
export const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");
