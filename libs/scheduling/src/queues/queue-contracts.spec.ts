import { PayloadError } from './payload-guard';
import { bullJobId, parseJobData } from './queue-contracts';

const valid = {
  jobId: '6b7c',
  teamId: 't1',
  model: 'demo',
  requestId: null,
  acceptedAt: 1,
  request: { messages: [{ role: 'user', content: 'hi' }], maxTokens: 8, temperature: 0, topP: 1 },
};

describe('queue payloads', () => {
  it('accepts a well-formed payload as it comes back from Redis', () => {
    expect(parseJobData('chat.completion', JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  it.each([
    ['a missing job id', { ...valid, jobId: undefined }],
    ['a message without content', { ...valid, request: { ...valid.request, messages: [{ role: 'user' }] } }],
    ['a string token limit', { ...valid, request: { ...valid.request, maxTokens: '8' } }],
    ['not an object', 'oops'],
  ])('refuses %s', (_what, data) => {
    expect(() => parseJobData('chat.completion', data)).toThrow(PayloadError);
  });

  it('requires the node id on a generate job, and a result on a success', () => {
    expect(() => parseJobData('generate', valid)).toThrow(/nodeId/);
    expect(() => parseJobData('job.finished', { jobId: 'x', nodeId: 'n', status: 'succeeded' })).toThrow(/result/);
    expect(() => parseJobData('job.finished', { jobId: 'x', nodeId: 'n', status: 'weird' })).toThrow(PayloadError);
  });

  it('derives one BullMQ id per job and queue stage, without colons', () => {
    expect(bullJobId('chat.completion', 'abc')).toBe('chat.completion-abc');
    expect(bullJobId('generate', 'abc')).not.toBe(bullJobId('chat.completion', 'abc'));
  });
});
