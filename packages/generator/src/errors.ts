/**
 * Errors thrown by the generator. It only throws for caller mistakes (bad options or a
 * non-finite clock value), never for data: malformed output is produced on purpose.
 */
export class GeneratorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An option passed to {@link createStorefront} is out of range or of the wrong type. */
export class InvalidGeneratorOptionError extends GeneratorError {
  constructor(option: string, value: unknown, expected: string) {
    super('GENERATOR_INVALID_OPTION', `generator option ${option} must be ${expected} (got ${String(value)})`, false, {
      option,
      value,
    });
  }
}
