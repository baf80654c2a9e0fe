import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { GROUP_MEMBERSHIP_ERROR_TYPES, groupMembershipLoss } from './membership';

/**
 * kafkajs's own table of broker error codes and the factory its request handlers call on
 * a failed response: the tests use the errors kafkajs really raises, with its type names.
 */
const protocol = require('kafkajs/src/protocol/error') as {
  createErrorFromCode(code: number): KafkaJSProtocolError;
  errorCodes: { type: string; code: number }[];
};

/** kafkajs's wrapper of a non-retriable failure, cause kept (its typings omit the options argument). */
function nonRetriable(inner: Error): Error {
  const Ctor = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
  return new Ctor(inner, { cause: inner });
}

/** What kafkajs's retrier raises when `commitOffsets` keeps failing with `inner`. */
function retriesExceeded(inner: Error): Error {
  return new KafkaJSNumberOfRetriesExceeded(inner as never, { retryCount: 5, retryTime: 3000 } as never);
}

describe('groupMembershipLoss', () => {
  it.each([
    [22, 'ILLEGAL_GENERATION'],
    [25, 'UNKNOWN_MEMBER_ID'],
    [27, 'REBALANCE_IN_PROGRESS'],
    [16, 'NOT_COORDINATOR_FOR_GROUP'],
  ])('finds broker error %i (%s) as kafkajs raises it', (code, type) => {
    const err = protocol.createErrorFromCode(code);
    expect(err).toBeInstanceOf(KafkaJSProtocolError);
    expect(groupMembershipLoss(err)).toBe(err);
    expect(groupMembershipLoss(err)?.type).toBe(type);
  });

  it('names only types that exist in kafkajs (a misspelt type would never match)', () => {
    const known = new Set(protocol.errorCodes.map((e) => e.type));
    for (const type of GROUP_MEMBERSHIP_ERROR_TYPES) expect(known).toContain(type);
  });

  it('finds the group error under the wrappers commitOffsets and the retrier put around it', () => {
    const inner = protocol.createErrorFromCode(25);
    const wrapped = nonRetriable(inner);
    expect(groupMembershipLoss(wrapped)).toBe(inner);
    expect(groupMembershipLoss(retriesExceeded(inner))).toBe(inner);
    expect(groupMembershipLoss(new Error('handler failed', { cause: retriesExceeded(inner) }))).toBe(inner);
  });

  it.each([
    ['another broker error', protocol.createErrorFromCode(3)], // UNKNOWN_TOPIC_OR_PARTITION
    ['a static-membership fence', protocol.createErrorFromCode(82)], // FENCED_INSTANCE_ID
    ['a generic kafkajs error', new KafkaJSError('Connection timeout')],
    ['a wrapped other error', nonRetriable(protocol.createErrorFromCode(3))],
    ['a plain Error', new Error('boom')],
    ['a string', 'REBALANCE_IN_PROGRESS'],
    ['null', null],
    ['undefined', undefined],
  ])('ignores %s', (_what, err) => {
    expect(groupMembershipLoss(err)).toBeUndefined();
  });

  it('stops at a bounded depth on a cyclic cause chain', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(groupMembershipLoss(a)).toBeUndefined();
  });
});
