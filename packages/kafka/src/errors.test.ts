import { KafkaJSConnectionError, KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { ReplyError } from 'ioredis';
import { AdapterError, BatchFailedError, isRetriable, RegistryUnavailableError, UndecodableError, UnknownSchemaError } from './errors';

/** A Node socket error as net.Socket emits it. */
function systemError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, errno: -111, syscall: 'connect' });
}

/** A broker error response as kafkajs raises it (its typings only admit an Error or a string). */
function protocolError(type: string, code: number, retriable: boolean): Error {
  return new KafkaJSProtocolError({ type, code, retriable, message: type } as unknown as Error);
}

/** ioredis's MaxRetriesPerRequestError (not exported by ioredis): an AbortError subclass with its own name. */
function maxRetriesPerRequest(): Error {
  const e = new Error('Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.');
  e.name = 'MaxRetriesPerRequestError';
  return e;
}

describe('isRetriable', () => {
  describe('unknown errors are not retriable (a bug must not retry forever)', () => {
    it.each<[string, unknown]>([
      ['TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
      ['RangeError', new RangeError('Invalid array length')],
      ['plain Error', new Error('something unexpected')],
      ['a thrown string', 'boom'],
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an object without a flag', { message: 'x' }],
      ['an Error wrapping a TypeError', new Error('wrapped', { cause: new TypeError('x') })],
    ])('%s', (_name, err) => {
      expect(isRetriable(err)).toBe(false);
    });
  });

  describe('flagged errors keep their flag', () => {
    it('AdapterErrors', () => {
      expect(isRetriable(new RegistryUnavailableError('http://r'))).toBe(true);
      expect(isRetriable(new UnknownSchemaError(7))).toBe(false);
      expect(isRetriable(new UndecodableError('bad'))).toBe(false);
      // The evaluator's OwnershipLostError: a retriable AdapterError, retried after fencing.
      expect(isRetriable(new AdapterError('OWNERSHIP_LOST', 'taken over', true, { partition: 1 }, { cause: new Error('fenced') }))).toBe(true);
    });

    it('other errors with a boolean retriable (service errors, FencedError)', () => {
      class FencedError extends Error {
        readonly code = 'FENCED';
        readonly retriable = false;
      }
      class BatchAbandonedError extends Error {
        readonly code = 'BATCH_ABANDONED';
        readonly retriable = true;
      }
      expect(isRetriable(new FencedError('taken over'))).toBe(false);
      expect(isRetriable(new BatchAbandonedError('revoked'))).toBe(true);
      // A flag wins over a transient-looking code.
      expect(isRetriable(Object.assign(systemError('ECONNREFUSED'), { retriable: false }))).toBe(false);
    });

    it('a batch the runner gave up on is never retried, whatever its cause', () => {
      const failed = new BatchFailedError('RETRIES_EXHAUSTED', { topic: 't', partition: 0, attempts: 3, elapsedMs: 10 }, { cause: new RegistryUnavailableError('http://r') });
      expect(isRetriable(failed)).toBe(false);
      expect(failed.message).toMatch(/t\/0 still failed after 3 attempts .*RegistryUnavailableError/);
    });
  });

  describe('kafkajs errors', () => {
    it('connection and timeout errors are retriable, protocol errors by their own flag', () => {
      expect(isRetriable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(true);
      expect(isRetriable(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'))).toBe(true);
      expect(isRetriable(new KafkaJSError('leader not available'))).toBe(true);
      expect(isRetriable(protocolError('NOT_LEADER_FOR_PARTITION', 6, true))).toBe(true);
      expect(isRetriable(protocolError('MESSAGE_TOO_LARGE', 10, false))).toBe(false);
      expect(isRetriable(protocolError('INVALID_PRODUCER_EPOCH', 47, false))).toBe(false);
      expect(isRetriable(new KafkaJSNonRetriableError(new TypeError('x')))).toBe(false);
    });

    it("a producer's exhausted retries are judged by what it retried (a broker restart outlasting them)", () => {
      const conn = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
      expect(isRetriable(new KafkaJSNumberOfRetriesExceeded(conn, { retryCount: 10, retryTime: 10_000, cause: conn } as never))).toBe(true);
      const tooLarge = protocolError('MESSAGE_TOO_LARGE', 10, false);
      expect(isRetriable(new KafkaJSNumberOfRetriesExceeded(tooLarge, { retryCount: 0, retryTime: 0, cause: tooLarge } as never))).toBe(false);
    });
  });

  describe('network and Redis outages are retriable', () => {
    it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])('socket error %s', (code) => {
      expect(isRetriable(systemError(code))).toBe(true);
    });

    it('ioredis: connection closed, aborted commands, max retries per request, offline queue off', () => {
      expect(isRetriable(new Error('Connection is closed.'))).toBe(true);
      const aborted = new Error('Command aborted due to connection close');
      aborted.name = 'AbortError';
      expect(isRetriable(aborted)).toBe(true);
      expect(isRetriable(maxRetriesPerRequest())).toBe(true);
      expect(isRetriable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    });

    it('Redis replies of a server loading, failing over or busy; not other replies', () => {
      const reply = (msg: string) => new ReplyError(msg) as Error;
      expect(reply('LOADING Redis is loading the dataset in memory').name).toBe('ReplyError');
      expect(isRetriable(reply('LOADING Redis is loading the dataset in memory'))).toBe(true);
      expect(isRetriable(reply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.'))).toBe(true);
      expect(isRetriable(reply('READONLY You can\'t write against a read only replica.'))).toBe(true);
      expect(isRetriable(reply('ERR Error running script (call to f_1): @user_script:12: user_script:12: attempt to compare nil with number'))).toBe(false);
      expect(isRetriable(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
      expect(isRetriable(reply('NOAUTH Authentication required.'))).toBe(false);
    });

    it('an unflagged wrapper is judged by its cause', () => {
      expect(isRetriable(new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') }))).toBe(true);
      expect(isRetriable(new Error('outer', { cause: new Error('Connection is closed.') }))).toBe(true);
    });
  });
});
