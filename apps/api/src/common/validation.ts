import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError } from '@gridline/common';

/** How many field errors one answer lists, and how long a field path may be quoted. */
const MAX_LISTED = 5;
const MAX_SEGMENT = 64;

interface FieldError {
  path: string;
  messages: string[];
}

function segment(parent: string, property: string): string {
  const name = property.length > MAX_SEGMENT ? `${property.slice(0, MAX_SEGMENT)}…` : property;
  if (/^\d+$/.test(name)) return `${parent}[${name}]`;
  return parent ? `${parent}.${name}` : name;
}

function flatten(errors: ValidationError[], parent = '', out: FieldError[] = []): FieldError[] {
  for (const e of errors) {
    const path = segment(parent, e.property);
    const constraints = e.constraints ?? {};
    // class-validator words its messages with the property name, which for an unknown key is
    // client input of any length: the path is given once, the message without it.
    const messages = Object.entries(constraints).map(([name, message]) =>
      name === 'whitelistValidation' ? 'is not a known field' : message.startsWith(`${e.property} `) ? message.slice(e.property.length + 1) : message,
    );
    if (messages.length > 0) out.push({ path, messages });
    if (e.children?.length) flatten(e.children, path, out);
    if (out.length > MAX_LISTED) break;
  }
  return out;
}

/** The one 400 for a body or query that fails its DTO: the first field it names is `param`. */
export function validationFailed(errors: ValidationError[]): ApiError {
  const fields = flatten(errors);
  const listed = fields.slice(0, MAX_LISTED).map((f) => `${f.path}: ${f.messages.join(', ')}`);
  const more = fields.length > MAX_LISTED ? ' (and more)' : '';
  return new ApiError('validation_failed', `${listed.join('; ')}${more}`, { param: fields[0]?.path });
}

export function globalValidationPipe(): ValidationPipe {
  return new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationFailed });
}
