/** Thrown once at start-up when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
  constructor(readonly issues: ReadonlyArray<{ variable: string; message: string }>) {
    super(
      `invalid configuration:\n` + issues.map((i) => `  - ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}
