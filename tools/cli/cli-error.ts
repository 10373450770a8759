/** A failure the user caused or can act on: `gridline` prints its message alone, without a stack. */
export class CliError extends Error {}
