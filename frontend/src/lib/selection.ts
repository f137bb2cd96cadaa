/** Selecting jobs to terminate: pure helpers behind the Jobs page's checkboxes. */

/**
 * Shift-click: every id between the anchor and the clicked one, both included,
 * in the order shown. `ordered` is the rows as displayed, across the pages the
 * range spans. Returns [] when the anchor is not among them.
 */
export function rangeBetween(ordered: readonly string[], anchor: string, clicked: string): string[] {
  const a = ordered.indexOf(anchor);
  const b = ordered.indexOf(clicked);
  if (a < 0 || b < 0) return [];
  return ordered.slice(Math.min(a, b), Math.max(a, b) + 1);
}

/** The selection with `ids` added (or removed), keeping the order in which jobs were selected. */
export function withIds(selected: readonly string[], ids: readonly string[], on: boolean): string[] {
  if (on) {
    const have = new Set(selected);
    return [...selected, ...ids.filter((id) => !have.has(id))];
  }
  const drop = new Set(ids);
  return selected.filter((id) => !drop.has(id));
}
