import { ApiProperty } from '@nestjs/swagger';

export type DependencyState = 'ok' | 'unreachable';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

/** Each dependency readiness waits on, and whether it answered within the check's bound. */
export class ReadinessChecksDto {
  @ApiProperty({ enum: ['ok', 'unreachable'] }) postgres!: DependencyState;
  @ApiProperty({ enum: ['ok', 'unreachable'] }) redis!: DependencyState;
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ type: ReadinessChecksDto }) checks!: ReadinessChecksDto;
}
