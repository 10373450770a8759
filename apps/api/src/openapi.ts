import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER_SECURITY, HMAC_SECURITY } from './auth/auth.decorators';
import { openAiErrorShapes } from './common/api-errors.decorator';
import { ErrorResponseDto, ProblemDto } from './common/dto/problem.dto';
import { documentQueueBoard } from './queue-board/queue-board.openapi';

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Gridline API')
    .setDescription(
      'Control plane for LLM inference on a fleet of GPU hosts. OpenAI-compatible routes under /v1; admin routes under /api/v1. ' +
        'Requests are signed with a Gridline keypair (Backend.AI HMAC-SHA256 scheme): `Authorization: BackendAI signMethod=HMAC-SHA256, credential=ACCESS_KEY:SIGNATURE`, with `Date` and `X-BackendAI-Version` headers.',
    )
    .setVersion('0.1.0')
    .addSecurity(HMAC_SECURITY, { type: 'apiKey', in: 'header', name: 'Authorization', description: 'BackendAI signMethod=HMAC-SHA256, credential=ACCESS_KEY:SIGNATURE' })
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'gl_… token (OpenAI-compatible clients)' }, BEARER_SECURITY)
    .build();
  return documentQueueBoard(openAiErrorShapes(SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto, ErrorResponseDto] })));
}

export function mountSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
