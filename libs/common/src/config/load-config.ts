import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

/** Thrown at boot when an environment variable is missing or invalid; names each variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variables: { name: string; problem: string }[]) {
    super(`invalid configuration: ${variables.map((v) => `${v.name} (${v.problem})`).join('; ')}`);
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** 'true'/'false' (and 1/0, yes/no, on/off); anything else stays a string and fails validation. */
function parseBoolean(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  return TRUE.has(v) ? true : FALSE.has(v) ? false : value;
}

type ConfigClass<T> = new () => T;

function problems(errors: ValidationError[]): { name: string; problem: string }[] {
  return errors.map((e) => ({
    name: e.property,
    problem: Object.values(e.constraints ?? {}).map((c) => c.replace(`${e.property} `, '')).join(', ') || 'is invalid',
  }));
}

/**
 * Builds a config class from environment variables. Property names are the variable names,
 * property initialisers are the local defaults, class-validator decorators are the rules.
 * Empty strings count as unset. This is the only place that reads `process.env`.
 */
export function loadConfig<T extends object>(cls: ConfigClass<T>, env: NodeJS.ProcessEnv = process.env): T {
  const defaults = new cls() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    if (value === undefined || value === '') raw[key] = defaults[key];
    else if (typeof defaults[key] === 'boolean') raw[key] = parseBoolean(value);
    else if (typeof defaults[key] === 'number') raw[key] = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    else raw[key] = value;
  }
  const instance = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(instance as object, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(problems(errors));
  return Object.freeze(instance);
}

/** `loadConfig` for a process entry point: an invalid environment ends the process with one line naming the variables. */
export function loadConfigOrExit<T extends object>(cls: ConfigClass<T>, app: string): T {
  try {
    return loadConfig(cls);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${app}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
