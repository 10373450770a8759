import { JsonLimits, JsonScanner, JsonViolation, hasForbiddenText } from './json-limits';

/** A whole text scanned in one chunk. */
function checkJsonText(s: string, limits: JsonLimits): JsonViolation | null {
  const scanner = new JsonScanner(limits);
  return scanner.write(s) ?? scanner.end();
}

const LIMITS: JsonLimits = { maxBytes: 1 << 22, maxDepth: 8, maxKeys: 16, maxItems: 32, maxString: 100 };

describe('checkJsonText', () => {
  it('passes ordinary bodies, escapes and surrogate pairs included', () => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'say "hi" \\ \u00e9 😀 \n' }], stop: ['\ud83d\ude00'] });
    expect(checkJsonText(body, LIMITS)).toBeNull();
    expect(checkJsonText('{"a":"\\ud83d\\ude00"}', LIMITS)).toBeNull();
  });

  it('refuses too many keys at the first key over the bound, naming the object', () => {
    const keys = Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`k${i}`, 1]));
    expect(checkJsonText(JSON.stringify({ options: keys }), LIMITS)).toMatchObject({ code: 'too_many_keys', path: 'options.k15' });
  });

  it('refuses deep nesting without recursion', () => {
    expect(checkJsonText('['.repeat(5000) + ']'.repeat(5000), LIMITS)).toMatchObject({ code: 'nesting_too_deep', path: '[0][0][0][0][0][0][0][0]' });
  });

  it('refuses long arrays and long strings, naming where', () => {
    expect(checkJsonText(JSON.stringify({ stop: Array(40).fill('x') }), LIMITS)).toMatchObject({ code: 'too_many_items', path: 'stop[32]' });
    expect(checkJsonText(JSON.stringify({ messages: [{ content: 'x'.repeat(101) }] }), LIMITS)).toMatchObject({ code: 'string_too_long', path: 'messages[0].content' });
  });

  it('refuses NUL and lone surrogates written as escapes, naming the field', () => {
    expect(checkJsonText(JSON.stringify({ messages: [{ content: 'ok' }, { content: 'a\u0000b' }] }), LIMITS)).toMatchObject({ code: 'invalid_text', path: 'messages[1].content' });
    expect(checkJsonText('{"content":"x\\ud800y"}', LIMITS)).toMatchObject({ code: 'invalid_text', path: 'content' });
    expect(checkJsonText('{"content":"\\udc00"}', LIMITS)).toMatchObject({ code: 'invalid_text' });
    expect(checkJsonText('{"content":"\\ud800\\u0041"}', LIMITS)).toMatchObject({ code: 'invalid_text' });
  });

  it('keeps keys with escaped quotes and braces inside strings apart from structure', () => {
    expect(checkJsonText(JSON.stringify({ 'a"{[': 'x}]", ' + '{'.repeat(50) }), LIMITS)).toBeNull();
  });

  it('quotes at most 64 characters of a hostile key in the path', () => {
    const v = checkJsonText(JSON.stringify({ ['k'.repeat(10_000)]: { deep: [[[[[[[[1]]]]]]]] } }), { ...LIMITS, maxString: 20_000 });
    expect(v?.code).toBe('nesting_too_deep');
    expect(v!.path.length).toBeLessThan(120);
  });
});

describe('JsonScanner', () => {
  const bodies = [
    '{"a":"x\\ud83d\\ude00y","b":["\\\\","\\"q"],"k\\"ey":{"c":[1,2,3]}}',
    '{"messages":[{"content":"ok"},{"content":"a\\u0000b"}]}',
    '{"content":"x\\ud800\\u0041"}',
    JSON.stringify({ stop: Array(40).fill('s') }),
    JSON.stringify({ deep: JSON.parse('['.repeat(9) + ']'.repeat(9)) as unknown }),
  ];

  it('finds the same thing however the text is cut into chunks', () => {
    for (const body of bodies) {
      const whole = checkJsonText(body, LIMITS);
      for (let a = 0; a < body.length; a++) {
        for (const b of [a + 1, a + 3, a + 7, body.length]) {
          const scanner = new JsonScanner(LIMITS);
          const found = scanner.write(body.slice(0, a)) ?? scanner.write(body.slice(a, b)) ?? scanner.write(body.slice(b)) ?? scanner.end();
          expect({ body, a, b, found }).toEqual({ body, a, b, found: whole });
        }
      }
    }
  });

  it('refuses a hostile body after its first chunk', () => {
    const scanner = new JsonScanner(LIMITS);
    const head = JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 1]))).slice(0, -1);
    expect(scanner.write(head)).toMatchObject({ code: 'too_many_keys' });
  });
});

describe('hasForbiddenText', () => {
  it('finds NUL and lone surrogates only', () => {
    expect(['a\u0000', 'x\ud800', '\udc00y', 'a\ud800b'].map(hasForbiddenText)).toEqual([true, true, true, true]);
    expect(['plain', 'é😀', '\ud83d\ude00'].map(hasForbiddenText)).toEqual([false, false, false]);
  });
});
