/** Text handling shared by the services (diffs) and the pages. */

/** Escapes text for HTML: every character that could start markup or end an attribute. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A count with its noun: "1 update", "3 updates", "1,204 rows" (`many` for nouns not made with "s"). */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}
