import { ValidationArguments, registerDecorator } from 'class-validator';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO-8601 date-time with a zone that JavaScript and Postgres both read the same way (null
 * passes: optional fields say so themselves). With `future`, it must also be later than now:
 * an expiry that has already passed would make a credential that never works.
 */
export function IsTimestamp(options: { future?: boolean } = {}) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: options.future ? 'isFutureTimestamp' : 'isTimestamp',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => {
          if (value === null) return true;
          if (typeof value !== 'string' || !TIMESTAMP.test(value)) return false;
          const at = Date.parse(value);
          return !Number.isNaN(at) && (!options.future || at > Date.now());
        },
        defaultMessage: (args?: ValidationArguments) => {
          const name = args?.property ?? 'value';
          const readable = typeof args?.value === 'string' && TIMESTAMP.test(args.value) && !Number.isNaN(Date.parse(args.value));
          return readable && options.future
            ? `${name} must be in the future`
            : `${name} must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T12:00:00Z`;
        },
      },
    });
}

/** Query-string booleans: `true` and `false` as words; anything else is left for @IsBoolean to refuse. */
export const toBool = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);

/** The largest Postgres `integer`. */
export const INT4_MAX = 2_147_483_647;
