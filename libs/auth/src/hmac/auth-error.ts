import { ApiError, AuthErrorCode } from '@gridline/common';

export type { AuthErrorCode } from '@gridline/common';

/** A refusal to authenticate (codes and statuses from the API error catalogue). Its message never contains secrets or signatures. */
export class AuthError extends ApiError {
  override readonly name = 'AuthError';

  constructor(code: AuthErrorCode, detail?: string) {
    super(code, detail);
  }
}
