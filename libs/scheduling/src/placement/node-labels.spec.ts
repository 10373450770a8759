import { NodeSpecError, formatLabels, formatTaints, parseLabels, parseTaints, labelProblem, taintProblem } from './node-labels';

const refusal = (fn: () => unknown): NodeSpecError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof NodeSpecError) return e;
    throw e;
  }
  throw new Error('accepted');
};

describe('parseLabels', () => {
  it('reads key=value items, with prefixes, empty values and tolerated spaces', () => {
    expect(parseLabels('team=ml, zone=eu-1 ,gridline.dev/gpu=H100,empty=,')).toEqual({ team: 'ml', zone: 'eu-1', 'gridline.dev/gpu': 'H100', empty: '' });
    expect(parseLabels('')).toEqual({});
    expect(parseLabels(' , ')).toEqual({});
  });

  it.each([
    ['team', 'label "team": expected key=value'],
    ['=ml', 'label "=ml": its name'],
    ['-team=ml', 'label "-team=ml": its name'],
    ['team=ml!', 'label "team=ml!": the value'],
    [`${'a'.repeat(64)}=x`, 'its name must be 1-63'],
    [`k=${'v'.repeat(64)}`, 'the value must be at most 63'],
    ['Gridline.Dev/gpu=x', 'its prefix must be a lower-case DNS subdomain'],
    ['team=ml,team=ops', 'label "team=ops": team is given twice'],
  ])('refuses %j, naming the item', (text, message) => {
    const e = refusal(() => parseLabels(text));
    expect(e.code).toBe('invalid_labels');
    expect(e.message).toContain(message);
  });

  it('accepts names and values of exactly 63 characters', () => {
    const name = `a${'-'.repeat(61)}z`;
    expect(parseLabels(`${name}=${name}`)).toEqual({ [name]: name });
  });

  it('formatLabels is its inverse', () => {
    const labels = { team: 'ml', 'gridline.dev/zone': 'eu-1', empty: '' };
    expect(parseLabels(formatLabels(labels))).toEqual(labels);
  });
});

describe('parseTaints', () => {
  it('reads key=value:Effect and key:Effect items', () => {
    expect(parseTaints('gpu=a100:NoSchedule, maintenance:NoExecute,gridline.dev/spot=true:PreferNoSchedule')).toEqual([
      { key: 'gpu', value: 'a100', effect: 'NoSchedule' },
      { key: 'maintenance', effect: 'NoExecute' },
      { key: 'gridline.dev/spot', value: 'true', effect: 'PreferNoSchedule' },
    ]);
    expect(parseTaints('')).toEqual([]);
  });

  it('keeps one key with two effects apart', () => {
    expect(parseTaints('gpu:NoSchedule,gpu:NoExecute')).toHaveLength(2);
  });

  it.each([
    ['gpu=a100', 'taint "gpu=a100": expected key=value:Effect or key:Effect'],
    ['gpu=a100:Never', 'taint "gpu=a100:Never": the effect must be one of NoSchedule, PreferNoSchedule, NoExecute'],
    ['gpu=a100:noschedule', 'the effect must be one of'],
    [':NoSchedule', 'taint ":NoSchedule": its name'],
    ['gpu=a:b:NoSchedule', 'taint "gpu=a:b:NoSchedule": the value'],
    ['gpu:NoSchedule,gpu=x:NoSchedule', 'taint "gpu=x:NoSchedule": gpu with effect NoSchedule is given twice'],
  ])('refuses %j, naming the item', (text, message) => {
    const e = refusal(() => parseTaints(text));
    expect(e.code).toBe('invalid_taints');
    expect(e.message).toContain(message);
  });

  it('formatTaints is its inverse', () => {
    const text = 'gpu=a100:NoSchedule,maintenance:NoExecute';
    expect(formatTaints(parseTaints(text))).toBe(text);
  });
});

describe('labelProblem and taintProblem (labels and taints given as data)', () => {
  it('apply the same rules as the text forms', () => {
    expect(labelProblem('gridline.dev/pool', 'a')).toBeNull();
    expect(labelProblem('bad key!', 'a')).toMatch(/its name must be/);
    expect(labelProblem('pool', 'no spaces')).toMatch(/the value must be/);
    expect(taintProblem({ key: 'gpu', value: 'a100', effect: 'NoSchedule' })).toBeNull();
    expect(taintProblem({ key: 'gpu', effect: 'Never' })).toMatch(/the effect must be one of/);
    expect(taintProblem({ key: 'Bad.Prefix/gpu', effect: 'NoExecute' })).toMatch(/prefix/);
  });
});
