import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { ApiError } from '@gridline/common';

/** A UUID path or query parameter; anything else is a 400 naming the parameter (never quoting it). */
@Injectable()
export class ParseUuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && isUUID(value)) return value;
    const param = metadata.data ?? 'id';
    throw new ApiError('validation_failed', `${param} must be a UUID`, { param });
  }
}
