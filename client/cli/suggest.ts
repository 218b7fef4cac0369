// "Did you mean": the closest known words to a mistyped one (commands, options, program names).
// Optimal string alignment distance (Levenshtein plus swapped neighbours, the commonest typo:
// "stauts"); `leven` and `fastest-levenshtein` count a swap as two edits.

/** Edits (insert, delete, substitute, swap two neighbours) that turn a into b. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** Known words within a third of the typed word's length (at least 1, at most 3 edits), closest first; a prefix either way counts too. */
export function closest(word: string, known: Iterable<string>, max = 3): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const scored: { candidate: string; distance: number }[] = [];
  for (const candidate of known) {
    if (candidate === word) continue;
    // One word the start of the other ("stat" for status, "memory" for mem) is as good as one edit.
    const prefix = Math.min(word.length, candidate.length) >= 3 && (candidate.startsWith(word) || word.startsWith(candidate));
    const distance = prefix ? 0.5 : editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit) scored.push({ candidate, distance });
  }
  scored.sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate));
  return scored.slice(0, max).map((s) => s.candidate);
}

/** " (did you mean X or Y?)", or "" when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const found = closest(word, known);
  if (found.length === 0) return "";
  const listed = found.length === 1 ? found[0]! : `${found.slice(0, -1).join(", ")} or ${found.at(-1)!}`;
  return ` (did you mean ${listed}?)`;
}
