/** A tour page as markdown. */
import { type TourBlock, type TourPage, oneLine } from "./model.js";

/** A code fence longer than any run of backticks in the text. */
function fence(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((x) => x[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

function blockMarkdown(b: TourBlock): string {
  switch (b.kind) {
    case "p":
      return b.text;
    case "list":
      return b.items.map((item, i) => `${b.ordered ? `${i + 1}.` : "-"} ${oneLine(item)}`).join("\n");
    case "code": {
      const f = fence(b.text);
      return `${b.caption !== undefined ? `\`${oneLine(b.caption)}\`:\n\n` : ""}${f}${b.lang}\n${b.text}\n${f}`;
    }
    case "svg":
      return `Dependency graph (SVG): see index.html, or run \`mb deps --format svg\`. ${b.caption}`;
  }
}

/** Renders a tour page as markdown. */
export function tourMarkdown(page: TourPage): string {
  const parts = [`# ${oneLine(page.title)}`, ...page.lead.map(blockMarkdown)];
  for (const s of page.sections) parts.push(`${"#".repeat(s.level)} ${oneLine(s.title)}`, ...s.blocks.map(blockMarkdown));
  return parts.join("\n\n") + "\n";
}
