import type { OpenAPIObject } from '@nestjs/swagger';
import { AUTHENTICATION_ERRORS, errorResponses } from '../common/api-errors.decorator';
import { BEARER_SECURITY, HMAC_SECURITY } from '../auth/auth.decorators';
import { QUEUE_BOARD_COOKIE, QUEUE_BOARD_PATH } from './queue-board-sessions';

export const QUEUE_BOARD_SECURITY = 'queueBoardSession';

/**
 * The queue board is served by bull-board's own router, not a controller: its entry page and the
 * JSON API beneath it are documented here, with the session cookie as their security scheme.
 */
export function documentQueueBoard(doc: OpenAPIObject): OpenAPIObject {
  doc.components = { ...doc.components, securitySchemes: { ...doc.components?.securitySchemes, [QUEUE_BOARD_SECURITY]: { type: 'apiKey', in: 'cookie', name: QUEUE_BOARD_COOKIE, description: `Set by POST /api/v1/admin/queues/session (superadmins); sent by the browser to ${QUEUE_BOARD_PATH} only` } } };
  const security: Record<string, string[]>[] = [{ [QUEUE_BOARD_SECURITY]: [] }, { [BEARER_SECURITY]: [] }, { [HMAC_SECURITY]: [] }];
  const errors = errorResponses(['invalid_text', ...AUTHENTICATION_ERRORS, 'insufficient_scope', 'queue_board_session_invalid', 'queue_board_session_expired', 'forbidden'], {
    401: 'No session cookie and no credential, or a session cookie altered or expired',
    403: 'Requires the superadmin role (and, for a token, the management scope)',
  });
  doc.paths[QUEUE_BOARD_PATH] = {
    get: {
      tags: ['admin'],
      summary: 'The queue board (bull-board) for superadmins',
      description:
        "bull-board's web UI over Gridline's queues (`inference`, and `node.<id>` per node). A browser opens a session first with POST /api/v1/admin/queues/session; curl may send a superadmin bearer token or signature instead. " +
        `Its JSON API lies beneath (GET ${QUEUE_BOARD_PATH}/api/queues lists the queues and their jobs). Pausing, resuming, retrying, promoting and cleaning completed or failed jobs are allowed and audited; every other change (adding or editing a job, emptying or obliterating a queue, rate limits, concurrency, job schedulers) is refused (queue_board_action_refused).`,
      operationId: 'QueueBoard_page',
      security,
      responses: { 200: { description: 'The board (HTML)', content: { 'text/html': { schema: { type: 'string' } } } }, ...errors },
    },
  };
  doc.paths[`${QUEUE_BOARD_PATH}/api/queues`] = {
    get: {
      tags: ['admin'],
      summary: "The queue board's list of queues and their jobs (bull-board's JSON API)",
      operationId: 'QueueBoard_queues',
      security,
      responses: { 200: { description: "bull-board's queue list", content: { 'application/json': { schema: { type: 'object', properties: { queues: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } } } } } }, ...errors },
    },
  };
  return doc;
}
