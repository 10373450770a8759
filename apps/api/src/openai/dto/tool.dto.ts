import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { TOOL_LIMITS } from '@gridline/contract';

/** OpenAI's function definition. Names and schemas are checked further before a job exists (see tool-calls.ts). */
export class FunctionDefinitionDto {
  @ApiProperty({ pattern: TOOL_LIMITS.name.source, example: 'get_weather' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  name!: string;

  @ApiPropertyOptional({ maxLength: TOOL_LIMITS.description })
  @IsOptional()
  @IsString()
  @MaxLength(TOOL_LIMITS.description)
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'A JSON schema of type object. The arguments are generated under a grammar built from it: type, properties, required, additionalProperties, items, prefixItems, enum, const, oneOf, anyOf, minLength/maxLength, minItems/maxItems, min/maxProperties, format (date, time, date-time) and $defs/$ref are honoured, annotations (description, title, default, …) are accepted, any other keyword is 400',
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Accepted: the arguments always follow the schema (grammar-constrained)' })
  @IsOptional()
  @IsBoolean()
  strict?: boolean;
}

export class ToolDto {
  @ApiProperty({ enum: ['function'] })
  @IsIn(['function'])
  type!: 'function';

  @ApiProperty({ type: FunctionDefinitionDto })
  @ValidateNested()
  @Type(() => FunctionDefinitionDto)
  function!: FunctionDefinitionDto;
}

export class ToolCallFunctionDto {
  @ApiProperty({ example: 'get_weather' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  name!: string;

  @ApiProperty({ description: 'The arguments as JSON text', example: '{"city": "Paris"}' })
  @IsString()
  @MaxLength(1_000_000)
  arguments!: string;
}

export class ToolCallDto {
  @ApiProperty({ example: 'call_5b1f0c2a9d4e8f7a6b3c2d1e' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  id!: string;

  @ApiProperty({ enum: ['function'] })
  @IsIn(['function'])
  type!: 'function';

  @ApiProperty({ type: ToolCallFunctionDto })
  @ValidateNested()
  @Type(() => ToolCallFunctionDto)
  function!: ToolCallFunctionDto;
}
