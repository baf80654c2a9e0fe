/**
 * True when the JSON text nests arrays and objects deeper than `maxDepth`. A linear scan
 * over the text (brackets inside strings do not count), run before `JSON.parse`, so a
 * value like `[[[[…]]]]` a megabyte deep is refused without being built. Malformed text is
 * left to the parser.
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
