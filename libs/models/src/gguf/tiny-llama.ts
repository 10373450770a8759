import { GgmlType, GgufDocument, GgufTensor, GgufValue, gguf } from './gguf.types';
import { seededRandom } from './seeded-random';

/** SentencePiece token types as llama.cpp numbers them. */
enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  Byte = 6,
}

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const WORDS = (
  'the of and to in is it you that he was for on are as with his they at be this have from or one had by word but not ' +
  'what all were we when your can said there use an each which she do how their if will up other about out many then ' +
  'them these so some her would make like him into time has look two more write go see number no way could people my ' +
  'than first water been call who oil its now find long down day did get come made may part grid line node model token ' +
  'hello world fast light small quiet river stone cloud green blue red'
).split(' ');

const PUNCTUATION = '.,!?\'-:;()"';

export interface TinyVocab {
  tokens: string[];
  scores: number[];
  types: number[];
  bos: number;
  eos: number;
  unk: number;
  /** Token ids whose output rows are zeroed (bytes and control tokens). */
  silent: number[];
}

/** A ~400-token SentencePiece vocabulary: specials, 256 byte tokens, ChatML markers, printable pieces. */
export function buildTinyVocab(): TinyVocab {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const add = (piece: string, type: TokenType, score = 0): number => {
    tokens.push(piece);
    scores.push(score);
    types.push(type);
    return tokens.length - 1;
  };
  const unk = add('<unk>', TokenType.Unknown);
  const bos = add('<s>', TokenType.Control);
  add('</s>', TokenType.Control);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, TokenType.Byte);
  add('<|im_start|>', TokenType.Control);
  const imEnd = add('<|im_end|>', TokenType.Control);

  const seen = new Set(tokens);
  const piece = (text: string, score: number) => {
    if (!seen.has(text)) {
      seen.add(text);
      add(text, TokenType.Normal, score);
    }
  };
  // Single characters first (lowest merge priority), then whole words (highest).
  piece('\u2581', -1000);
  for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789' + PUNCTUATION) piece(ch, -1000);
  WORDS.forEach((w, i) => piece(`\u2581${w}`, -10 - i / 1000));
  WORDS.slice(0, 20).forEach((w, i) => piece(w, -20 - i / 1000));

  const silent = types.flatMap((t, id) => (t === TokenType.Byte || t === TokenType.Control || t === TokenType.Unknown ? [id] : []));
  return { tokens, scores, types, bos, eos: imEnd, unk, silent };
}

export interface TinyLlamaOptions {
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  feedForward?: number;
  contextLength?: number;
  name?: string;
}

/**
 * Builds a small but complete llama-architecture GGUF with random (seeded) F32 weights.
 * Output rows of byte, control and unknown tokens are zeroed so greedy decoding lands on
 * printable pieces and the generated text is visible.
 */
export function buildTinyLlama(options: TinyLlamaOptions = {}): GgufDocument {
  const {
    seed = 42,
    embedding = 64,
    layers = 2,
    heads = 4,
    kvHeads = 2,
    feedForward = 128,
    contextLength = 2048,
    name = 'gridline-tiny',
  } = options;
  if (embedding % heads !== 0) throw new RangeError('embedding must be a multiple of heads');
  const headDim = embedding / heads;
  const kvDim = headDim * kvHeads;
  const vocab = buildTinyVocab();
  const nVocab = vocab.tokens.length;
  const random = seededRandom(seed);

  const f32 = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const randomTensor = (tensorName: string, dims: number[], scale: number): GgufTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (random() * 2 - 1) * scale;
    return { name: tensorName, dims, type: GgmlType.F32, data: f32(values) };
  };
  const ones = (tensorName: string, n: number): GgufTensor => ({
    name: tensorName,
    dims: [n],
    type: GgmlType.F32,
    data: f32(new Float32Array(n).fill(1)),
  });

  const tensors: GgufTensor[] = [randomTensor('token_embd.weight', [embedding, nVocab], 1)];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      ones(`${p}attn_norm.weight`, embedding),
      randomTensor(`${p}attn_q.weight`, [embedding, embedding], 0.5),
      randomTensor(`${p}attn_k.weight`, [embedding, kvDim], 0.5),
      randomTensor(`${p}attn_v.weight`, [embedding, kvDim], 0.5),
      randomTensor(`${p}attn_output.weight`, [embedding, embedding], 0.5),
      ones(`${p}ffn_norm.weight`, embedding),
      randomTensor(`${p}ffn_gate.weight`, [embedding, feedForward], 0.5),
      randomTensor(`${p}ffn_up.weight`, [embedding, feedForward], 0.5),
      randomTensor(`${p}ffn_down.weight`, [feedForward, embedding], 0.5),
    );
  }
  tensors.push(ones('output_norm.weight', embedding));
  const output = randomTensor('output.weight', [embedding, nVocab], 1);
  const outputBytes = output.data as Uint8Array;
  const outputRows = new Float32Array(outputBytes.buffer, outputBytes.byteOffset, embedding * nVocab);
  for (const id of vocab.silent) outputRows.fill(0, id * embedding, (id + 1) * embedding);
  tensors.push(output);

  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gguf.str('llama')],
    ['general.name', gguf.str(name)],
    ['general.alignment', gguf.u32(32)],
    ['general.file_type', gguf.u32(0)],
    ['llama.context_length', gguf.u32(contextLength)],
    ['llama.embedding_length', gguf.u32(embedding)],
    ['llama.block_count', gguf.u32(layers)],
    ['llama.feed_forward_length', gguf.u32(feedForward)],
    ['llama.attention.head_count', gguf.u32(heads)],
    ['llama.attention.head_count_kv', gguf.u32(kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(1e-5)],
    ['llama.rope.dimension_count', gguf.u32(headDim)],
    ['llama.rope.freq_base', gguf.f32(10000)],
    ['llama.vocab_size', gguf.u32(nVocab)],
    ['tokenizer.ggml.model', gguf.str('llama')],
    ['tokenizer.ggml.tokens', gguf.strings(vocab.tokens)],
    ['tokenizer.ggml.scores', gguf.f32s(vocab.scores)],
    ['tokenizer.ggml.token_type', gguf.i32s(vocab.types)],
    ['tokenizer.ggml.bos_token_id', gguf.u32(vocab.bos)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(vocab.eos)],
    ['tokenizer.ggml.unknown_token_id', gguf.u32(vocab.unk)],
    ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
    ['tokenizer.chat_template', gguf.str(CHATML_TEMPLATE)],
  ]);
  return { metadata, tensors };
}
