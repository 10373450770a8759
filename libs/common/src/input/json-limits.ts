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

/**
 * Walks JSON text once, in linear time and without recursion, and returns the first bound it
 * breaks: nesting, keys per object, items per array, string length, or text that no string
 * may hold (NUL, a lone surrogate). Run before `JSON.parse`, it keeps hostile bodies (300,000
 * keys, 5,000 levels) from costing more than a scan; it does not check the grammar, which
 * `JSON.parse` does next.
 */
export function checkJsonText(s: string, limits: JsonLimits): JsonViolation | null {
  const stack: Frame[] = [];
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let j = start;
      let key = '';
      const top = stack[stack.length - 1];
      const isKey = top?.object === true && top.expectKey;
      for (; j < n; j++) {
        const d = s.charCodeAt(j);
        if (d === QUOTE) break;
        if (d !== BACKSLASH) continue;
        j++;
        if (s.charCodeAt(j) !== 117 /* u */) continue;
        const unit = hex4(s, j + 1);
        if (unit === 0) return { code: 'invalid_text', path: pathOf(stack), detail: 'strings must not contain NUL (\\u0000)' };
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = s.slice(j + 5, j + 7) === '\\u' ? hex4(s, j + 7) : -1;
          if (low < 0xdc00 || low > 0xdfff) return { code: 'invalid_text', path: pathOf(stack), detail: 'strings must not contain a lone UTF-16 surrogate' };
          j += 6;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          return { code: 'invalid_text', path: pathOf(stack), detail: 'strings must not contain a lone UTF-16 surrogate' };
        }
        j += 4;
      }
      if (j - start > limits.maxString) {
        return { code: 'string_too_long', path: pathOf(stack), detail: `strings are limited to ${limits.maxString} characters` };
      }
      if (isKey) {
        key = s.slice(start, Math.min(j, start + MAX_PATH_SEGMENT + 1));
        top.at = key.length > MAX_PATH_SEGMENT ? `${key.slice(0, MAX_PATH_SEGMENT)}…` : key;
        top.expectKey = false;
      }
      i = j;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (stack.length >= limits.maxDepth) return { code: 'nesting_too_deep', path: pathOf(stack), detail: `objects and arrays nest at most ${limits.maxDepth} deep` };
      stack.push({ object: c === 123, count: 0, at: c === 123 ? '' : 0, expectKey: c === 123 });
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
      continue;
    }
    if (c === 44 /* , */) {
      const top = stack[stack.length - 1];
      if (!top) continue;
      top.count++;
      if (top.object) {
        top.expectKey = true;
        if (top.count >= limits.maxKeys) return { code: 'too_many_keys', path: pathOf(stack), detail: `objects have at most ${limits.maxKeys} keys` };
      } else {
        top.at = top.count;
        if (top.count >= limits.maxItems) return { code: 'too_many_items', path: pathOf(stack), detail: `arrays have at most ${limits.maxItems} items` };
      }
    }
  }
  return null;
}

/** NUL and lone surrogates, which no stored or forwarded text may hold (query strings, headers). */
export function hasForbiddenText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
