/** The model catalog's search, family filter and the facts a card shows. */
import type { components } from '../../api/schema';

export type Model = components['schemas']['ModelDto'];

/** Families present in the catalog, for the filter, sorted. */
export function familiesOf(models: readonly Pick<Model, 'family'>[]): string[] {
  return [...new Set(models.map((m) => m.family))].sort();
}

/** Models whose name, family, architecture or quantization contains every word of the search, in the family (null: all); by name. */
export function filterModels<M extends Pick<Model, 'name' | 'family' | 'architecture' | 'quantization'>>(models: readonly M[], search: string, family: string | null): M[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  return models
    .filter((m) => family === null || m.family === family)
    .filter((m) => {
      const text = [m.name, m.family, m.architecture, m.quantization ?? ''].join(' ').toLowerCase();
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Tokens as a reader says them: 131072 → "128K", 2048 → "2K", 500 → "500". */
export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  if (n >= 1000) return `${(n / 1024).toFixed(1)}K`;
  return String(n);
}

/** What the card says about tools: from the chat template. */
export function toolSupportText(toolSupport: boolean | null): string {
  return toolSupport === null ? 'no chat template' : toolSupport ? 'tools' : 'no tools';
}
