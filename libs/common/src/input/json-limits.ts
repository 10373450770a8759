/** Bounds on the shape of a JSON body, checked on its text before it is parsed. */
export interface JsonLimits {
  /** Bytes of body. */
  maxBytes: number;
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Keys of one object. */
  maxKeys: number;
  /** Items of one array. */
  maxItems: number;
  /** Characters of one string (as written, escapes included). */
  maxString: number;
}

export type JsonViolationCode = 'nesting_too_deep' | 'too_many_keys' | 'too_many_items' | 'string_too_long' | 'invalid_text';

export interface JsonViolation {
  code: JsonViolationCode;
  /** Where: a dotted path with [i] for items (keys quoted up to 64 characters). */
  path: string;
  detail: string;
}

const QUOTE = 34;
const BACKSLASH = 92;
const MAX_PATH_SEGMENT = 64;

interface Frame {
  object: boolean;
  /** Keys or items so far. */
  count: number;
  /** The current key (objects) or index (arrays). */
  at: string | number;
  /** In an object, whether the next string is a key. */
  expectKey: boolean;
}

function pathOf(stack: Frame[]): string {
  let path = '';
  for (const f of stack) {
    if (!f.object) path += `[${f.at}]`;
    else if (f.at !== '') path += path ? `.${f.at}` : String(f.at);
  }
  return path || '(body)';
}

function hex4(s: string, i: number): number {
  const n = Number.parseInt(s.slice(i, i + 4), 16);
  return /^[0-9a-fA-F]{4}$/.test(s.slice(i, i + 4)) ? n : -1;
}

/** The longest escape the scanner must see whole: a surrogate pair, `\\uD83D\\uDE00`. */
const LONGEST_ESCAPE = 12;

/**
 * Walks JSON text once, in linear time and without recursion, chunk by chunk as it arrives,
 * and reports the first bound it breaks: nesting, keys per object, items per array, string
 * length, or text that no string may hold (NUL, a lone surrogate). Run before `JSON.parse`, it
 * keeps hostile bodies (300,000 keys, 5,000 levels) from costing more than a scan of their
 * first bytes; it does not check the grammar, which `JSON.parse` does next.
 */
export class JsonScanner {
  private readonly stack: Frame[] = [];
  private inString = false;
  private stringLength = 0;
  private isKey = false;
  private key = '';
  /** The start of an escape cut by a chunk boundary, kept for the next chunk. */
  private carry = '';
  private violation: JsonViolation | null = null;

  constructor(private readonly limits: JsonLimits) {}

  /** Scans the next piece of text; returns the violation once there is one. */
  write(chunk: string, final = false): JsonViolation | null {
    if (this.violation) return this.violation;
    const s = this.carry + chunk;
    this.carry = '';
    this.violation = this.scan(s, final);
    return this.violation;
  }

  end(): JsonViolation | null {
    return this.write('', true);
  }

  private fail(code: JsonViolationCode, detail: string): JsonViolation {
    return { code, path: pathOf(this.stack), detail };
  }

  private scan(s: string, final: boolean): JsonViolation | null {
    const { limits, stack } = this;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (this.inString) {
        // Runs of ordinary characters are skipped in one step.
        let j = i;
        while (j < n) {
          const d = s.charCodeAt(j);
          if (d === QUOTE || d === BACKSLASH) break;
          j++;
        }
        this.take(s, i, j);
        if (this.stringLength > limits.maxString) return this.fail('string_too_long', `strings are limited to ${limits.maxString} characters`);
        if (j >= n) return null;
        if (s.charCodeAt(j) === QUOTE) {
          this.closeString();
          i = j;
          continue;
        }
        if (!final && n - j < LONGEST_ESCAPE) {
          this.carry = s.slice(j);
          return null;
        }
        const escape = this.escapeAt(s, j);
        if (typeof escape !== 'number') return escape;
        this.take(s, j, j + escape);
        i = j + escape - 1;
        continue;
      }
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        const top = stack[stack.length - 1];
        this.inString = true;
        this.stringLength = 0;
        this.isKey = top?.object === true && top.expectKey;
        this.key = '';
      } else if (c === 123 /* { */ || c === 91 /* [ */) {
        if (stack.length >= limits.maxDepth) return this.fail('nesting_too_deep', `objects and arrays nest at most ${limits.maxDepth} deep`);
        stack.push({ object: c === 123, count: 0, at: c === 123 ? '' : 0, expectKey: c === 123 });
      } else if (c === 125 /* } */ || c === 93 /* ] */) {
        stack.pop();
      } else if (c === 44 /* , */) {
        const top = stack[stack.length - 1];
        if (!top) continue;
        top.count++;
        if (top.object) {
          top.expectKey = true;
          if (top.count >= limits.maxKeys) return this.fail('too_many_keys', `objects have at most ${limits.maxKeys} keys`);
        } else {
          top.at = top.count;
          if (top.count >= limits.maxItems) return this.fail('too_many_items', `arrays have at most ${limits.maxItems} items`);
        }
      }
    }
    return null;
  }

  /** Counts s[from, to) into the current string, keeping a key's first characters for paths. */
  private take(s: string, from: number, to: number): void {
    this.stringLength += to - from;
    if (this.isKey && this.key.length <= MAX_PATH_SEGMENT) this.key += s.slice(from, Math.min(to, from + MAX_PATH_SEGMENT + 1));
  }

  private closeString(): void {
    this.inString = false;
    if (!this.isKey) return;
    const top = this.stack[this.stack.length - 1];
    top.at = this.key.length > MAX_PATH_SEGMENT ? `${this.key.slice(0, MAX_PATH_SEGMENT)}…` : this.key;
    top.expectKey = false;
  }

  /** The length of the escape at s[j] (a backslash), or the violation it is. */
  private escapeAt(s: string, j: number): number | JsonViolation {
    if (s.charCodeAt(j + 1) !== 117 /* u */) return 2;
    const unit = hex4(s, j + 2);
    if (unit === 0) return this.fail('invalid_text', 'strings must not contain NUL (\\u0000)');
    if (unit >= 0xdc00 && unit <= 0xdfff) return this.fail('invalid_text', 'strings must not contain a lone UTF-16 surrogate');
    if (unit < 0xd800 || unit > 0xdbff) return 6;
    const low = s.slice(j + 6, j + 8) === '\\u' ? hex4(s, j + 8) : -1;
    if (low < 0xdc00 || low > 0xdfff) return this.fail('invalid_text', 'strings must not contain a lone UTF-16 surrogate');
    return 12;
  }
}

/** NUL and lone surrogates, which no stored or forwarded text may hold (query strings, headers). */
export function hasForbiddenText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
