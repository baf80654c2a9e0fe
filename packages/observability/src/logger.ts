import pino, { type DestinationStream, type Logger } from 'pino';
import { scrub, scrubText, serializeError } from './redact';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Service name, on every line as `service`. */
  service: string;
  level?: string;
  /** Human-readable colour output (the demo); JSON otherwise. */
  pretty?: boolean;
  /** Where lines go; stdout by default. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

/**
 * Builds the one pino logger a service hands to its components (which make child loggers
 * carrying the event's identity). Every record, child binding and message is scrubbed of
 * personal data and secrets; errors keep class, message, stack and cause (see redact.ts).
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Runs before the serializers: errors at any depth are serialized here, whole.
      log: (obj) => scrub(obj) as Record<string, unknown>,
    },
    // Replaces pino's default `err` serializer, which would read the already serialized
    // error as an error-like object of class Object with no stack.
    serializers: { err: errSerializer, error: errSerializer },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
  };
  if (opts.destination) return scrubChildBindings(pino(options, opts.destination));
  if (opts.pretty) {
    return scrubChildBindings(
      pino({
        ...options,
        transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
      }),
    );
  }
  return scrubChildBindings(pino(options));
}

/**
 * Child bindings never pass `formatters.log` (pino serializes them once, in `child()`):
 * scrub them there. Children inherit the override, so grandchildren are covered too.
 */
function scrubChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, scrub(bindings) as pino.Bindings, options);
  } as typeof child;
  return logger;
}

function errSerializer(value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}
