import type { Kafka } from 'kafkajs';
import type { Logger, Metrics } from '@labelstream/observability';
import { createConsumerRunner, DEFAULT_SESSION_TIMEOUT_MS, groupTimings } from './consumer';

/** The options createConsumerRunner hands kafkajs' `kafka.consumer()`; nothing connects. */
function consumerConfig(sessionTimeoutMs?: number): Record<string, unknown> {
  let config: Record<string, unknown> | undefined;
  const kafka = {
    consumer: (c: Record<string, unknown>) => {
      config = c;
      return { on: () => () => undefined, events: {} };
    },
  } as unknown as Kafka;
  createConsumerRunner({
    kafka,
    groupId: 'g',
    topics: ['t'],
    handler: async () => undefined,
    logger: {} as Logger,
    metrics: {} as Metrics,
    ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
  });
  return config!;
}

describe('consumer group timings', () => {
  it('default to an 8 s session with a heartbeat every 0.8 s', () => {
    expect(DEFAULT_SESSION_TIMEOUT_MS).toBe(8000);
    expect(groupTimings()).toEqual({ sessionTimeout: 8000, heartbeatInterval: 800 });
  });

  it('heartbeat every tenth of the session, within 0.3–3 s', () => {
    expect(groupTimings(10_000).heartbeatInterval).toBe(1000);
    expect(groupTimings(2000).heartbeatInterval).toBe(300);
    expect(groupTimings(45_000)).toEqual({ sessionTimeout: 45_000, heartbeatInterval: 3000 });
  });

  it('are what the runner hands kafkajs, with or without a session timeout', () => {
    expect(consumerConfig()).toMatchObject({ groupId: 'g', sessionTimeout: 8000, heartbeatInterval: 800 });
    expect(consumerConfig(6000)).toMatchObject({ sessionTimeout: 6000, heartbeatInterval: 600 });
  });
});
