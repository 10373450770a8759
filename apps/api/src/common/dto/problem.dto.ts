import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_ERROR_CODES } from '@gridline/common';

/** An error outside `/v1`: RFC 9457 problem details (`application/problem+json`). */
export class ProblemDto {
  @ApiProperty({ example: 'https://gridline.dev/errors/not_found', description: 'A URI naming the code' })
  type!: string;

  @ApiProperty({ example: 'Not found', description: "The code's title, the same for every occurrence" })
  title!: string;

  @ApiProperty({ example: 404 })
  status!: number;

  @ApiProperty({ example: "team '0b5f…' was not found", description: 'This occurrence; quotes no more than a short prefix of the input' })
  detail!: string;

  @ApiProperty({ enum: API_ERROR_CODES, enumName: 'ApiErrorCode', description: 'Stable code from the API error catalogue' })
  code!: string;

  @ApiPropertyOptional({ example: 'expiresAt', description: 'The request field (or path or query parameter) the error is about' })
  param?: string;

  @ApiProperty({ description: 'The request id, also in the x-request-id header' })
  requestId!: string;
}

/** The body of an error under `/v1`, in OpenAI's shape. */
export class OpenAiErrorDto {
  @ApiProperty({ example: "The model 'gpt-5' does not exist" })
  message!: string;

  @ApiProperty({ enum: ['invalid_request_error', 'authentication_error', 'permission_error', 'rate_limit_error', 'api_error'] })
  type!: string;

  @ApiProperty({ type: String, nullable: true, example: 'model' })
  param!: string | null;

  @ApiProperty({ enum: API_ERROR_CODES, enumName: 'ApiErrorCode' })
  code!: string;
}

export class ErrorResponseDto {
  @ApiProperty({ type: OpenAiErrorDto })
  error!: OpenAiErrorDto;
}
