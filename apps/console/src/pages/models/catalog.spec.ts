import { familiesOf, filterModels, formatTokens, toolSupportText } from './catalog';

const m = (name: string, family: string, quantization: string | null) => ({ name, family, architecture: family === 'qwen' ? 'qwen2' : 'llama', quantization });

describe('model catalog: search and family filter', () => {
  const models = [m('tiny', 'llama', 'F32'), m('llama-3.1-70b-q8', 'llama', 'Q8_0'), m('qwen2.5-7b', 'qwen', 'Q4_K_M')];

  it('searches name, family, architecture and quantization, every word', () => {
    expect(filterModels(models, '70b', null).map((x) => x.name)).toEqual(['llama-3.1-70b-q8']);
    expect(filterModels(models, 'q4_k', null).map((x) => x.name)).toEqual(['qwen2.5-7b']);
    expect(filterModels(models, 'llama q8', null).map((x) => x.name)).toEqual(['llama-3.1-70b-q8']);
    expect(filterModels(models, '', 'llama').map((x) => x.name)).toEqual(['llama-3.1-70b-q8', 'tiny']);
    expect(filterModels(models, 'nothing-like-it', null)).toEqual([]);
  });

  it('lists the families, and writes contexts and tool support as a card says them', () => {
    expect(familiesOf(models)).toEqual(['llama', 'qwen']);
    expect(formatTokens(131072)).toBe('128K');
    expect(formatTokens(2048)).toBe('2K');
    expect(formatTokens(500)).toBe('500');
    expect(formatTokens(null)).toBe('—');
    expect(toolSupportText(true)).toBe('tools');
    expect(toolSupportText(null)).toBe('no chat template');
  });
});
