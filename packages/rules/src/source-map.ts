/**
 * Maps paths inside a parsed YAML rules file back to line/column positions, so that
 * validation messages point at the offending text — including a position inside a CEL
 * expression.
 */
import { isMap, isPair, isScalar, LineCounter, Scalar, type Document, type Node, type Pair } from 'yaml';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /** The key/value pair at `path` (every path element a map key), if present. */
  pair(path: readonly (string | number)[]): Pair<Node, Node> | undefined {
    let node: unknown = this.doc.contents;
    let found: Pair<Node, Node> | undefined;
    for (const key of path) {
      if (!isMap(node)) return undefined;
      found = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key)) as
        | Pair<Node, Node>
        | undefined;
      if (!found) return undefined;
      node = found.value;
    }
    return found;
  }

  /** Position of the value at `path`, else of its key, else of the nearest present ancestor. */
  position(path: readonly (string | number)[]): Position | undefined {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const value = this.nodeAt(sub);
      const range = value?.range ?? (this.pair(sub)?.key as Node | undefined)?.range;
      if (range) return this.at(range[0]);
    }
    return undefined;
  }

  /** Position of the key at `path` (e.g. to point at an unknown or misplaced key). */
  keyPosition(path: readonly (string | number)[]): Position | undefined {
    const range = (this.pair(path)?.key as Node | undefined)?.range;
    return range ? this.at(range[0]) : this.position(path.slice(0, -1));
  }

  /**
   * Position of character `offset` of the expression stored at `path`. Exact for plain,
   * quoted (without escapes before the offset) and literal block scalars; otherwise the
   * start of the scalar.
   */
  expressionPosition(path: readonly (string | number)[], offset: number): Position | undefined {
    const node = this.nodeAt(path);
    if (!node || !isScalar(node) || !node.range) return this.position(path);
    const start = node.range[0];
    const value = String(node.value);
    const before = value.slice(0, offset);
    switch (node.type) {
      case Scalar.PLAIN:
      case Scalar.QUOTE_DOUBLE:
      case Scalar.QUOTE_SINGLE: {
        const quote = node.type === Scalar.PLAIN ? 0 : 1;
        const raw = this.text.slice(start + quote, start + quote + offset);
        if (!before.includes('\n') && raw === before) return this.at(start + quote + offset);
        return this.at(start);
      }
      case Scalar.BLOCK_LITERAL: {
        // Content starts on the line after the indicator, indented by the first line's indent.
        const firstLineStart = this.text.indexOf('\n', start) + 1;
        const indent = /^[ ]*/.exec(this.text.slice(firstLineStart))?.[0].length ?? 0;
        const lineIndex = before.split('\n').length - 1;
        const column = before.length - (before.lastIndexOf('\n') + 1);
        const base = this.at(firstLineStart);
        return { line: base.line + lineIndex, column: indent + column + 1 };
      }
      default:
        return this.at(start);
    }
  }

  /** The text of the pair at `path`, from the key to the end of its value, with the key's indentation. */
  pairText(path: readonly (string | number)[]): string {
    const pair = this.pair(path);
    const keyRange = (pair?.key as Node | undefined)?.range;
    const valueRange = (pair?.value as Node | undefined)?.range;
    if (!keyRange || !valueRange) return '';
    const lineStart = this.text.lastIndexOf('\n', keyRange[0] - 1) + 1;
    return this.text.slice(lineStart, valueRange[1]).replace(/\s+$/, '');
  }

  private nodeAt(path: readonly (string | number)[]): Node | undefined {
    if (path.length === 0) return (this.doc.contents as Node | null) ?? undefined;
    return this.pair(path)?.value as Node | undefined;
  }

  private at(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }
}
