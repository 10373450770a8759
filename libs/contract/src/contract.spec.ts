import { REQUEST_LIMITS, SAMPLING_PARAMETERS, assertInferenceRequest, chatRequest, samplingFromOpenAi, samplingValue } from './inference-request';
import { JOB_ERRORS, JOB_ERROR_CODES, isJobErrorCode } from './job-errors';
import { DeltaContinuity, JobEvent, foldJobEvents, parseJobEvent } from './job-events';
import { parseGenerateJobPayload, parseInferenceJobPayload } from './job-payloads';
import { logitBiasProblem } from './output-controls';
import { PayloadError } from './shape';

const payload = {
  jobId: '6b7c',
  teamId: 't1',
  model: 'demo',
  requestId: null,
  mode: 'sync',
  attempt: 1,
  acceptedAt: 1,
  deadlineAt: 2,
  request: chatRequest([{ role: 'user', content: 'hi' }], { maxTokens: 8, sampling: { temperature: 0 } }),
};

describe('inference contract', () => {
  it('maps OpenAI sampling fields by the table, and applies defaults where the request is silent', () => {
    expect(samplingFromOpenAi({ temperature: 0.5, top_p: 0.9, seed: 7, model: 'x', max_tokens: 3 })).toEqual({ temperature: 0.5, topP: 0.9, seed: 7 });
    expect(samplingValue({}, 'temperature')).toBe(SAMPLING_PARAMETERS.temperature.default);
    expect(samplingValue({}, 'seed')).toBeUndefined();
    expect(samplingValue({ topP: 0.2 }, 'topP')).toBe(0.2);
  });

  it('accepts a well-formed payload as it comes back from Redis, chat or plain prompt', () => {
    expect(parseInferenceJobPayload(JSON.parse(JSON.stringify(payload)))).toEqual(payload);
    const prompt = { ...payload, request: { input: { kind: 'completion', prompt: 'Once' }, sampling: {}, maxTokens: 4 } };
    expect(parseInferenceJobPayload(prompt)).toEqual(prompt);
    expect(parseGenerateJobPayload({ ...payload, nodeId: 'n1' }).nodeId).toBe('n1');
    const resumed = { ...payload, attempt: 2, resume: { text: 'Once upon', deltas: 3 } };
    expect(parseInferenceJobPayload(JSON.parse(JSON.stringify(resumed)))).toEqual(resumed);
  });

  it.each([
    ['a missing job id', { ...payload, jobId: undefined }],
    ['attempt 0', { ...payload, attempt: 0 }],
    ['a resume without its delta count', { ...payload, attempt: 2, resume: { text: 'Once' } }],
    ['a resume of no delta', { ...payload, attempt: 2, resume: { text: '', deltas: 0 } }],
    ['an unknown mode', { ...payload, mode: 'batch' }],
    ['a message without content', { ...payload, request: { ...payload.request, input: { kind: 'chat', messages: [{ role: 'user' }] } } }],
    ['an unknown role', { ...payload, request: { ...payload.request, input: { kind: 'chat', messages: [{ role: 'robot', content: 'x' }] } } }],
    ['no messages', { ...payload, request: { ...payload.request, input: { kind: 'chat', messages: [] } } }],
    ['an unknown input kind', { ...payload, request: { ...payload.request, input: { kind: 'image' } } }],
    ['a string token limit', { ...payload, request: { ...payload.request, maxTokens: '8' } }],
    ['a token limit above the bound', { ...payload, request: { ...payload.request, maxTokens: REQUEST_LIMITS.maxTokens.max + 1 } }],
    ['an unknown sampling parameter', { ...payload, request: { ...payload.request, sampling: { mirostat: 2 } } }],
    ['a temperature out of bounds', { ...payload, request: { ...payload.request, sampling: { temperature: 9 } } }],
    ['a fractional seed', { ...payload, request: { ...payload.request, sampling: { seed: 1.5 } } }],
    ['a frequency penalty out of bounds', { ...payload, request: { ...payload.request, sampling: { frequencyPenalty: -2.5 } } }],
    ['a logit bias of no token id', { ...payload, request: { ...payload.request, logitBias: { x: 1 } } }],
    ['a logit bias above 100', { ...payload, request: { ...payload.request, logitBias: { '3': 100.5 } } }],
    ['logprobs with 21 alternatives', { ...payload, request: { ...payload.request, logprobs: { top: 21 } } }],
    ['an unknown response format', { ...payload, request: { ...payload.request, responseFormat: { type: 'yaml' } } }],
    ['a json_schema format without a schema', { ...payload, request: { ...payload.request, responseFormat: { type: 'json_schema', name: 'x' } } }],
    ['not an object', 'oops'],
  ])('refuses %s', (_what, data) => {
    expect(() => parseInferenceJobPayload(data)).toThrow(PayloadError);
  });

  it('carries penalties, token biases, log probabilities and a response format through Redis', () => {
    const full = {
      ...payload,
      request: {
        ...payload.request,
        sampling: { temperature: 0, frequencyPenalty: -2, presencePenalty: 1.5 },
        logitBias: { '0': -100, '42': 100 },
        logprobs: { top: 20 },
        responseFormat: { type: 'json_schema', name: 'm', schema: { type: 'object', properties: { a: { enum: ['x'] } } } },
      },
    };
    expect(parseInferenceJobPayload(JSON.parse(JSON.stringify(full)))).toEqual(full);
    expect(samplingFromOpenAi({ frequency_penalty: 0.5, presence_penalty: -1 })).toEqual({ frequencyPenalty: 0.5, presencePenalty: -1 });
  });

  it('checks logit_bias maps: token ids as decimal integers, biases from -100 to 100', () => {
    expect(logitBiasProblem({ '0': -100, '50256': 100, '7': 0.25 })).toBeNull();
    for (const bad of [{ '01': 1 }, { '-1': 1 }, { '1.5': 1 }, { a: 1 }, { '1': '5' }, { '1': Infinity }, [], null]) expect(logitBiasProblem(bad)).not.toBeNull();
    expect(logitBiasProblem(Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [String(i), 1])))).toMatch(/at most 1024/);
  });

  it('requires the node id on a generate payload', () => {
    expect(() => parseGenerateJobPayload(payload)).toThrow(/nodeId/);
    expect(() => assertInferenceRequest({ ...payload.request, stop: [1] })).toThrow(PayloadError);
  });

  it('has a closed catalogue of job errors, each with a status', () => {
    expect(JOB_ERROR_CODES).toEqual(expect.arrayContaining(['model_not_found', 'no_capacity', 'context_length_exceeded', 'timeout', 'cancelled', 'node_lost', 'runner_crashed', 'invalid_request', 'internal']));
    for (const code of JOB_ERROR_CODES) expect(JOB_ERRORS[code].status).toBeGreaterThanOrEqual(400);
    expect(isJobErrorCode('timeout')).toBe(true);
    expect(isJobErrorCode('toString')).toBe(false);
    expect(isJobErrorCode('whatever')).toBe(false);
  });
});

describe('job events', () => {
  it('parses what it encodes and refuses anything else', () => {
    const events: JobEvent[] = [
      { type: 'started', attempt: 1, nodeId: 'n' },
      { type: 'delta', index: 0, text: 'a' },
      { type: 'delta', index: 0, text: 'a', timing: { nodeMs: 2.5, runnerMs: 1.25 } },
      { type: 'delta', index: 1, text: ' b', logprobs: [{ token: ' b', logprob: -0.5, bytes: [32, 98], top: [{ token: ' b', logprob: -0.5, bytes: [32, 98] }] }] },
      { type: 'delta', index: 0, text: 'a', timing: { nodeMs: 2.5, runnerMs: 1.25 }, logprobs: [{ token: 'a', logprob: -1, bytes: [97], top: [] }] },
      { type: 'usage', promptTokens: 3, completionTokens: 1 },
      { type: 'usage', promptTokens: 3, completionTokens: 1, cachedPromptTokens: 2 },
      { type: 'finished', finishReason: 'length', firstTokenMs: 1, totalMs: 2 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 2, deltas: 4 },
      { type: 'error', code: 'node_lost', message: 'gone' },
      { type: 'error', code: 'invalid_request', message: 'logit_bias: token 9 is not in the vocabulary', param: 'logit_bias' },
    ];
    for (const e of events) expect(parseJobEvent(JSON.stringify(e))).toEqual(e);
    for (const bad of ['{', '{"type":"delta","index":"0","text":"a"}', '{"type":"error","code":"made_up","message":"x"}', '{"type":"usage","promptTokens":3,"completionTokens":1,"cachedPromptTokens":"2"}', '{"type":"finished","finishReason":"cancelled","firstTokenMs":1,"totalMs":1}', '[]', 'null',
      '{"type":"delta","index":0,"text":"a","logprobs":[{"token":"a","logprob":null,"bytes":[97],"top":[]}]}', '{"type":"delta","index":0,"text":"a","logprobs":[{"token":"a","logprob":-1,"bytes":[300],"top":[]}]}', '{"type":"error","code":"invalid_request","message":"x","param":3}']) {
      expect(parseJobEvent(bad)).toBeNull();
    }
  });

  it("drops a malformed timing, never the delta's text (it is only an account)", () => {
    for (const timing of [{ nodeMs: -1, runnerMs: 1 }, { nodeMs: 1 }, 'fast', null]) {
      expect(parseJobEvent(JSON.stringify({ type: 'delta', index: 2, text: 'b', timing }))).toEqual({ type: 'delta', index: 2, text: 'b' });
    }
  });

  it('folds an attempt into its output, joining deltas by index (a repeated delta counts once)', () => {
    const out = foldJobEvents([
      { type: 'started', attempt: 1, nodeId: 'n' },
      { type: 'delta', index: 0, text: 'Hel' },
      { type: 'delta', index: 1, text: 'lo' },
      { type: 'delta', index: 1, text: 'lo' },
      { type: 'usage', promptTokens: 5, completionTokens: 2 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 3, totalMs: 9 },
    ]);
    expect(out).toEqual({ output: { text: 'Hello', finishReason: 'stop', promptTokens: 5, cachedPromptTokens: null, completionTokens: 2, firstTokenMs: 3, totalMs: 9 } });
    // A node that reports its cache use: the figure travels into the output.
    const cached = foldJobEvents([
      { type: 'started', attempt: 1, nodeId: 'n' },
      { type: 'usage', promptTokens: 5, completionTokens: 0, cachedPromptTokens: 4 },
      { type: 'finished', finishReason: 'length', firstTokenMs: 3, totalMs: 9 },
    ]);
    expect(cached).toMatchObject({ output: { promptTokens: 5, cachedPromptTokens: 4 } });
    expect(foldJobEvents([{ type: 'delta', index: 0, text: 'x' }, { type: 'error', code: 'runner_crashed', message: 'boom' }])).toEqual({ error: { code: 'runner_crashed', message: 'boom' } });
    expect(foldJobEvents([{ type: 'delta', index: 0, text: 'x' }])).toBeNull();
    // A hole in the deltas (a trimmed stream) is never passed off as the answer.
    expect(
      foldJobEvents([
        { type: 'delta', index: 0, text: 'a' },
        { type: 'delta', index: 2, text: 'c' },
        { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1 },
      ]),
    ).toEqual({ error: { code: 'stream_interrupted', message: expect.stringMatching(/incomplete/) } });
    // So is a text whose last deltas were lost: `finished` counts what was written.
    expect(
      foldJobEvents([
        { type: 'delta', index: 0, text: 'a' },
        { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1, deltas: 3 },
      ]),
    ).toEqual({ error: { code: 'stream_interrupted', message: expect.stringMatching(/delta 1 was lost/) } });
  });

  it('lets whole delta sequences through and puts stream_interrupted in place of the first sign of a loss', () => {
    const finished = (deltas: number): JobEvent => ({ type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1, deltas });
    const delta = (index: number): JobEvent => ({ type: 'delta', index, text: `t${index}` });
    const run = (events: [number, JobEvent][]) => {
      const c = new DeltaContinuity();
      return events.map(([attempt, e]) => c.check(attempt, e));
    };
    const whole: [number, JobEvent][] = [[1, delta(0)], [1, delta(1)], [1, delta(1)], [1, delta(2)], [1, finished(3)]];
    expect(run(whole)).toEqual(whole.map(([, e]) => e));
    // A hole in the middle.
    expect(run([[1, delta(0)], [1, delta(2)]])[1]).toMatchObject({ type: 'error', code: 'stream_interrupted' });
    // The last deltas lost: only `finished` can tell.
    expect(run([[1, delta(0)], [1, finished(2)]])[1]).toMatchObject({ type: 'error', code: 'stream_interrupted' });
    // Attempts are numbered apart; `finished` without a count is taken as it is.
    expect(run([[1, { type: 'started', attempt: 1, nodeId: 'n' }], [2, delta(0)], [2, { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1 }]]).map((e) => e.type)).toEqual(['started', 'delta', 'finished']);
    // An attempt that continues an earlier one's text numbers its deltas from `fromDelta`, and `finished` counts them all.
    const resumed: [number, JobEvent][] = [[1, delta(0)], [1, delta(1)], [2, { type: 'started', attempt: 2, nodeId: 'n2', fromDelta: 2 }], [2, delta(2)], [2, finished(3)]];
    expect(run(resumed)).toEqual(resumed.map(([, e]) => e));
    expect(run([[2, { type: 'started', attempt: 2, nodeId: 'n2', fromDelta: 2 }], [2, delta(3)]])[1]).toMatchObject({ type: 'error', code: 'stream_interrupted' });
  });

  it('folds a resumed attempt after the text it continues, and never passes a hole in that text off as the answer', () => {
    const resumed: JobEvent[] = [
      { type: 'delta', index: 0, text: 'Once' },
      { type: 'started', attempt: 2, nodeId: 'n2', fromDelta: 1 },
      { type: 'delta', index: 1, text: ' upon' },
      { type: 'usage', promptTokens: 4, completionTokens: 2 },
      { type: 'finished', finishReason: 'length', firstTokenMs: 0, totalMs: 1, deltas: 2 },
    ];
    expect(foldJobEvents(resumed)).toMatchObject({ output: { text: 'Once upon', finishReason: 'length', completionTokens: 2 } });
    expect(foldJobEvents(resumed.slice(1))).toMatchObject({ error: { code: 'stream_interrupted' } });
    expect(parseJobEvent(JSON.stringify(resumed[1]))).toEqual(resumed[1]);
    expect(parseJobEvent(JSON.stringify({ ...resumed[1], fromDelta: -1 }))).toBeNull();
  });
});
