import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '@labelstream/observability';
import { registerCodecs } from './codecs';

/** Connection settings (the config package's KafkaSettings has this shape). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs?: number;
  ssl?: { ca?: string[] } | true;
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain'; username: string; password: string };
  /** kafkajs retry policy for connections and requests; the default retries for about a minute. */
  retry?: KafkaConfig['retry'];
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client whose own log lines go through our (scrubbing) pino logger, and which
 * reads and writes all of Kafka's compression codecs (see ./codecs).
 */
export function createKafka(conn: KafkaConnection, logger: Logger): Kafka {
  registerCodecs();
  const kafkaLog = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: conn.clientId,
    brokers: conn.brokers,
    connectionTimeout: conn.connectionTimeoutMs ?? 3000,
    requestTimeout: 30_000,
    ...(conn.ssl ? { ssl: conn.ssl === true ? true : { ca: conn.ssl.ca } } : {}),
    ...(conn.sasl ? { sasl: { mechanism: conn.sasl.mechanism, username: conn.sasl.username, password: conn.sasl.password } as KafkaConfig['sasl'] } : {}),
    retry: conn.retry ?? { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLog[LEVELS[level] ?? 'info']({ kafka: extra }, message);
      },
  });
}
