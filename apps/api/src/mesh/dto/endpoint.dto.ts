import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { DEFAULT_HEALTH, ENDPOINT_KINDS, EndpointKind, HEALTH_BOUNDS } from '@gridline/mesh';

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MODEL_NAME = /^[\x21-\x7e]{1,256}$/;

/** A keypair in Backend.AI's scheme (`gridline`, `backendai`) or a bearer key (`openai`); never returned. */
export class EndpointCredentialsDto {
  @ApiPropertyOptional({ example: 'AKIAIOSFODNN7EXAMPLE', description: 'gridline, backendai: the access key the remote issued' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  accessKey?: string;
  @ApiPropertyOptional({ description: 'gridline, backendai: its secret key' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(512) secretKey?: string;
  @ApiPropertyOptional({ description: 'openai: the bearer API key' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(4096) apiKey?: string;
}

function healthProp(name: keyof typeof HEALTH_BOUNDS, what: string) {
  const b = HEALTH_BOUNDS[name];
  return (target: object, key: string) => {
    ApiPropertyOptional({ minimum: b.min, maximum: b.max, default: DEFAULT_HEALTH[name], description: what })(target, key);
    IsOptional()(target, key);
    IsInt()(target, key);
    Min(b.min)(target, key);
    Max(b.max)(target, key);
  };
}

/** How the endpoint is checked and taken out of routing; what is left out keeps its default (or current) value. */
export class EndpointHealthDto {
  @healthProp('intervalSeconds', 'Seconds between active checks (GET /v1/models)') intervalSeconds?: number;
  @healthProp('timeoutSeconds', 'Seconds an active check may take') timeoutSeconds?: number;
  @healthProp('requestTimeoutSeconds', "Seconds a request waits for the endpoint's answer to begin (a peer Gridline answers with its first token), and at most between two of its chunks") requestTimeoutSeconds?: number;
  @healthProp('unhealthyThreshold', 'Failed checks in a row that make it unhealthy') unhealthyThreshold?: number;
  @healthProp('healthyThreshold', 'Passed checks in a row that make it healthy again') healthyThreshold?: number;
  @healthProp('breakerFailures', 'Failed requests in a row that open its circuit (passive checks)') breakerFailures?: number;
  @healthProp('breakerOpenSeconds', 'Seconds an open circuit keeps requests away') breakerOpenSeconds?: number;
}

export class CreateEndpointDto {
  @ApiProperty({ example: 'peer-b', description: 'Lower-case letters, digits and dashes (1 to 63)' }) @IsString() @Matches(NAME, { message: 'name must be lower-case letters, digits and dashes (1 to 63), starting and ending with a letter or digit' }) name!: string;
  @ApiProperty({ enum: ENDPOINT_KINDS, description: 'gridline: a peer Gridline (its keypair); backendai: a Backend.AI cluster (its keypair); openai: any OpenAI-compatible server (bearer key)' })
  @IsIn(ENDPOINT_KINDS)
  kind!: EndpointKind;
  @ApiProperty({ example: 'https://gridline-b.example.com', description: 'Base URL; requests go to <url>/v1/…' }) @IsString() @MaxLength(2048) url!: string;
  @ApiProperty({ type: EndpointCredentialsDto }) @ValidateNested() @Type(() => EndpointCredentialsDto) credentials!: EndpointCredentialsDto;
  @ApiPropertyOptional({ default: 100, minimum: 0, maximum: 10000, description: 'Share of traffic among the healthy endpoints serving a model' }) @IsOptional() @IsInt() @Min(0) @Max(10000) weight?: number;
  @ApiPropertyOptional({ default: true, description: "Offer the models its catalog lists (now, and new ones later) to every team at once; false: each waits until an admin enables it" })
  @IsOptional()
  @IsBoolean()
  offerNewModels?: boolean;
  @ApiPropertyOptional({ type: EndpointHealthDto }) @IsOptional() @ValidateNested() @Type(() => EndpointHealthDto) health?: EndpointHealthDto;
}

export class UpdateEndpointDto {
  @ApiPropertyOptional({ description: 'A new address (checked by a handshake first)' }) @IsOptional() @IsString() @MaxLength(2048) url?: string;
  @ApiPropertyOptional({ type: EndpointCredentialsDto, description: 'New credentials (checked by a handshake first)' }) @IsOptional() @ValidateNested() @Type(() => EndpointCredentialsDto) credentials?: EndpointCredentialsDto;
  @ApiPropertyOptional({ minimum: 0, maximum: 10000 }) @IsOptional() @IsInt() @Min(0) @Max(10000) weight?: number;
  @ApiPropertyOptional({ description: 'False: nothing is routed there, and it is not checked' }) @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ description: 'Offer models its catalog lists for the first time at once (false: each waits for an admin)' }) @IsOptional() @IsBoolean() offerNewModels?: boolean;
  @ApiPropertyOptional({ type: EndpointHealthDto }) @IsOptional() @ValidateNested() @Type(() => EndpointHealthDto) health?: EndpointHealthDto;
}

export class EndpointHealthSettingsDto {
  @ApiProperty() intervalSeconds!: number;
  @ApiProperty() timeoutSeconds!: number;
  @ApiProperty() requestTimeoutSeconds!: number;
  @ApiProperty() unhealthyThreshold!: number;
  @ApiProperty() healthyThreshold!: number;
  @ApiProperty() breakerFailures!: number;
  @ApiProperty() breakerOpenSeconds!: number;
}

export class EndpointModelDto {
  @ApiProperty({ description: "The model's id on the endpoint" }) remoteModel!: string;
  @ApiProperty({ description: 'The name clients use here' }) alias!: string;
  @ApiProperty({ nullable: true, type: [String], description: 'Teams that may use it; null: every team that is not local-only' }) teamIds!: string[] | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ description: "Whether the endpoint's last catalog listed it" }) listed!: boolean;
  @ApiProperty({ format: 'date-time' }) lastSeenAt!: string;
}

export class EndpointDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ENDPOINT_KINDS }) kind!: EndpointKind;
  @ApiProperty() url!: string;
  @ApiProperty({ description: 'The access key, or the last characters of the API key (the secret is never shown again)' }) credentialHint!: string;
  @ApiProperty() weight!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ description: 'Models its catalog lists for the first time are offered at once' }) offerNewModels!: boolean;
  @ApiProperty({ type: EndpointHealthSettingsDto }) health!: EndpointHealthSettingsDto;
  @ApiProperty({ enum: ['unknown', 'healthy', 'unhealthy'], description: 'What the active checks concluded' }) state!: 'unknown' | 'healthy' | 'unhealthy';
  @ApiProperty({ format: 'date-time' }) stateSince!: string;
  @ApiProperty({ enum: ['closed', 'open'], description: 'The passive circuit breaker: open keeps requests away after failed ones' }) circuit!: 'closed' | 'open';
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Until when the circuit stays open' }) circuitOpenUntil!: string | null;
  @ApiProperty({ description: 'Routed to now: enabled, healthy, circuit closed' }) routable!: boolean;
  @ApiProperty() consecutiveFailures!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) lastCheckAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last check failed' }) lastError!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The remote's version, from the handshake" }) remoteVersion!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) catalogRefreshedAt!: string | null;
  @ApiProperty({ type: [EndpointModelDto] }) models!: EndpointModelDto[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class EndpointListDto {
  @ApiProperty({ type: [EndpointDto] }) items!: EndpointDto[];
}

export class UpdateEndpointModelDto {
  @ApiPropertyOptional({ description: 'The name clients use here' }) @IsOptional() @IsString() @Matches(MODEL_NAME, { message: 'alias must be 1 to 256 visible ASCII characters' }) alias?: string;
  @ApiPropertyOptional({ nullable: true, type: [String], description: 'Teams that may use it; null: every team' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  teamIds?: string[] | null;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class FallbackChainDto {
  @ApiProperty({ type: [String], example: ['llama-3.1-8b', 'gpt-4o-mini'], description: 'Models tried in order when nothing healthy serves the model' })
  @IsArray()
  @ArrayMaxSize(8)
  @IsString({ each: true })
  @Matches(MODEL_NAME, { each: true, message: 'each model must be 1 to 256 visible ASCII characters' })
  chain!: string[];
}

export class FallbackDto {
  @ApiProperty() model!: string;
  @ApiProperty({ type: [String] }) chain!: string[];
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class FallbackListDto {
  @ApiProperty({ type: [FallbackDto] }) items!: FallbackDto[];
}
