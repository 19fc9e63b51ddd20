/**
 * The runnable parts of Markdown: fenced code blocks, and in a shell block
 * its curl commands with the answer the comment after each promises.
 */

export interface CodeBlock {
  readonly lang: string;
  readonly code: string;
  /** The nearest heading above the block. */
  readonly heading: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let heading = '';
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (open !== undefined) {
      if (/^```\s*$/.test(line)) {
        blocks.push({ lang: open.lang, code: `${open.lines.join('\n')}\n`, heading });
        open = undefined;
      } else open.lines.push(line);
      continue;
    }
    const fence = /^```(\w*)/.exec(line);
    if (fence !== null) open = { lang: fence[1]!, lines: [] };
    else if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
  }
  return blocks;
}

export interface CurlCommand {
  readonly command: string;
  /** The comment after the command (same line or the next), if any. */
  readonly expected: string | undefined;
}

/** A `#` comment that starts outside quotes, after whitespace. */
function splitComment(line: string): [string, string | undefined] {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!)))
      return [line.slice(0, i), line.slice(i + 1).trim()];
  }
  return [line, undefined];
}

/** The curl commands of a shell block, in order (continuation lines joined). */
export function curlCommands(code: string): CurlCommand[] {
  const lines = code.split('\n');
  const out: CurlCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    let [text, comment] = splitComment(lines[i]!);
    while (text.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      i++;
      const [more, c] = splitComment(lines[i]!);
      text = `${text.trimEnd().slice(0, -1).trimEnd()} ${more.trim()}`;
      comment = c;
    }
    if (!/^\s*curl\s/.test(text)) continue;
    if (comment === undefined) {
      const next = lines[i + 1] ?? '';
      if (/^\s*# /.test(next)) comment = next.trim().slice(2).trim();
    }
    out.push({ command: text.trim(), expected: comment });
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether an answer keeps the promise of a comment: `200 {…}` or `{…}`
 * (status 200), alternatives joined by ` or `. In a JSON pattern `…` is any
 * text, a token (`tok_` and 22 characters) any token, and `ct_…` (with or
 * without its first characters) any ciphertext; after a status, prose is
 * not compared.
 */
export function keepsPromise(expected: string, status: number, body: string): boolean {
  return expected.split(' or ').some((alternative) => {
    const m = /^(\d{3})(?:\s+(.*))?$/.exec(alternative.trim());
    const wantStatus = m === null ? 200 : Number(m[1]);
    const pattern = (m === null ? alternative : (m[2] ?? '')).trim();
    if (status !== wantStatus) return false;
    if (!pattern.startsWith('{') && !pattern.startsWith('[')) return true;
    const source = escapeRegExp(pattern)
      .replace(/ct_[A-Za-z0-9_-]*…/g, 'ct_[A-Za-z0-9_-]+')
      .replaceAll('…', '.*?')
      .replace(/tok_[A-Za-z0-9_-]{22}/g, 'tok_[A-Za-z0-9_-]{22}');
    return new RegExp(`^${source}$`, 's').test(body.trim());
  });
}
