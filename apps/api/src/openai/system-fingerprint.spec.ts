import type { ModelRecord } from '@gridline/db';
import { systemFingerprint } from './system-fingerprint';

const model = (over: Partial<ModelRecord> = {}): Pick<ModelRecord, 'id' | 'sha256' | 'facts'> => ({
  id: '0b5f6f52-4c1e-4f57-9a57-1f0e6c1c2b3a',
  sha256: 'ab12cd34ef56'.padEnd(64, '0'),
  facts: { architecture: 'llama', contextLength: 4096, layers: 2, serving: { contextTokens: 2048, maxTokenBytes: 16 } } as ModelRecord['facts'],
  ...over,
});

describe('systemFingerprint', () => {
  it('names the file by its digest and the context it is served with', () => {
    expect(systemFingerprint(model())).toBe('gl-ab12cd34ef56-c2048');
  });

  it('changes with the file and with the served context, and only with them', () => {
    const base = systemFingerprint(model());
    expect(systemFingerprint(model({ id: 'another-row' }))).toBe(base);
    expect(systemFingerprint(model({ sha256: 'ff'.repeat(32) }))).not.toBe(base);
    expect(systemFingerprint(model({ facts: { ...model().facts, serving: { contextTokens: 4096, maxTokenBytes: 16 } } }))).not.toBe(base);
  });

  it('stands in for an unknown digest by the catalog id, and for an unannounced context by c0', () => {
    const fp = systemFingerprint(model({ sha256: null, facts: { ...model().facts, serving: undefined } }));
    expect(fp).toMatch(/^gl-id[0-9a-f]{10}-c0$/);
    expect(systemFingerprint(model({ id: 'other', sha256: null }))).not.toBe(fp.replace('-c0', '-c2048'));
  });
});
