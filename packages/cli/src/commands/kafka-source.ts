import type { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_TOPICS } from '@labelstream/contracts';
import { registerCodecs, Registry } from '@labelstream/kafka';

/** The options of a command that reads a Kafka topic through the schema registry. */
export interface KafkaSourceOptions {
  brokers: string;
  registry: string;
  topic: string;
}

/** Adds `--brokers`, `--registry` (defaults from KAFKA_BROKERS and SCHEMA_REGISTRY_URL) and `--topic` with the given default. */
export function kafkaSourceOptions(cmd: Command, topic: { description: string; default: string }): Command {
  return cmd
    .option('--brokers <list>', 'Kafka brokers', process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .option('--registry <url>', 'schema registry URL', process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7')
    .option('--topic <topic>', topic.description, topic.default);
}

/** The options of a command that reads the public label events. */
export function labelEventsSourceOptions(cmd: Command): Command {
  return kafkaSourceOptions(cmd, { description: 'label events topic', default: DEFAULT_TOPICS.labelEvents });
}

/** A Kafka client that reads every codec (the publisher writes lz4 by default) and the registry, for those options. */
export function kafkaClients(opts: KafkaSourceOptions, clientId: string): { kafka: Kafka; registry: Registry } {
  registerCodecs();
  return {
    kafka: new Kafka({ clientId, brokers: opts.brokers.split(','), logLevel: logLevel.NOTHING }),
    registry: new Registry({ url: opts.registry }),
  };
}
