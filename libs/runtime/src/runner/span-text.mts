import type { LlamaModel, Token } from 'node-llama-cpp';
import type { CompletionEnd, CompletionPartial } from './span-server.mjs';

/**
 * The text of a spanning generation, rendered from llama-server's token ids by node-llama-cpp's
 * detokenizer, as the single-node path renders it: llama-server's own text is its tokens' pieces
 * put end to end, while llama.cpp's detokenizer (which LlamaChat and LlamaCompletion use) drops
 * the leading space of the first token for SentencePiece vocabularies and cleans spaces before
 * punctuation for some BPE ones. The same tokens then give the same text on both paths.
 *
 * Stop strings are llama-server's to find (it stops generating there); here the text is cut at
 * the same string and a possible start of one is held back, as llama-server does with its own.
 *
 * llama-server does not stream a token whose text ends inside a UTF-8 character (it sends the
 * next one alone, with the text of both). Its id is then lost, and from there on the text is
 * llama-server's, aligned on what was sent before: exact but for the detokenizer's space
 * clean-up in what follows. Only vocabularies that split characters into byte tokens meet it.
 */
export class SpanText {
  private readonly tokens: Token[] = [];
  private emitted = '';
  /** llama-server's text so far, and (once a token was lost) how far ahead of ours it is. */
  private server = '';
  private serverOffset: number | null = null;

  constructor(
    private readonly model: LlamaModel,
    private readonly stops: readonly string[],
    private readonly onText: (text: string) => void,
  ) {}

  partial(p: CompletionPartial): void {
    const serverBefore = this.server.length;
    this.server += p.content;
    if (this.serverOffset === null && p.decoded > this.tokens.length + p.tokens.length) this.serverOffset = serverBefore - this.emitted.length;
    if (this.serverOffset !== null) return this.emitUpTo(this.server.slice(this.serverOffset));
    this.tokens.push(...(p.tokens as Token[]));
    this.emitUpTo(this.holdBack(this.cut(this.model.detokenize(this.tokens))));
  }

  /** The whole text once llama-server has ended; what was not streamed yet is. */
  finish(end: CompletionEnd): string {
    // Aborted: the text is what was streamed.
    if (end.stopType === 'none') return this.emitted;
    const full = this.serverOffset !== null ? this.server.slice(this.serverOffset) : this.cut(this.model.detokenize(this.tokens));
    this.emitUpTo(full);
    return this.emitted;
  }

  /** The text before the first stop string in it. */
  private cut(text: string): string {
    let end = text.length;
    for (const stop of this.stops) {
      const at = stop ? text.indexOf(stop) : -1;
      if (at >= 0 && at < end) end = at;
    }
    return text.slice(0, end);
  }

  /** Without what may still change: a possible start of a stop string, an unfinished character. */
  private holdBack(text: string): string {
    let end = text.length;
    while (end > 0 && text[end - 1] === '\uFFFD') end--;
    let keep = end;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, end); n > 0; n--) {
        if (text.slice(end - n, end) === stop.slice(0, n)) {
          keep = Math.min(keep, end - n);
          break;
        }
      }
    }
    return text.slice(0, keep);
  }

  private emitUpTo(target: string): void {
    // Text once sent stays sent: a rendering that disagrees with it (never expected) adds nothing.
    if (target.length <= this.emitted.length || !target.startsWith(this.emitted)) return;
    const fresh = target.slice(this.emitted.length);
    this.emitted = target;
    this.onText(fresh);
  }
}
