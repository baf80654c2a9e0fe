import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

describe('logger redaction', () => {
  const canaryEmail = 'canary.person@example.org';
  const canaryName = 'Zebulon Canaryman';
  const canaryPhone = '+44 20 7946 0958';

  it('never writes personal fields or personal text, at any depth', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'test', level: 'debug', destination });
    log.info({ customer: { email: canaryEmail, customerName: canaryName, phone: canaryPhone, id: 'c-1' } }, 'nested');
    log.info({ raw: { deep: { deeper: { firstName: 'Zebulon', lastName: 'Canaryman' } } } }, 'deep');
    log.warn(`message quoting ${canaryEmail} and ${canaryPhone}`);
    log.error({ err: new Error(`bad input from ${canaryEmail}`) }, 'error path');
    log.child({ eventId: 'e-1' }).info({ payload: { email: canaryEmail } }, 'child');
    log.info({ sasl: { password: 'hunter2' }, token: 'abc' }, 'secrets');
    const all = lines.join('\n');
    expect(lines).toHaveLength(6);
    for (const secret of [canaryEmail, 'Canaryman', '7946', 'hunter2']) expect(all).not.toContain(secret);
    expect(JSON.parse(lines[0]!).customer.id).toBe('c-1');
    expect(JSON.parse(lines[4]!).eventId).toBe('e-1');
    expect(all).toContain('[REDACTED]');
    expect(all).toContain('[EMAIL]');
  });

  it('masks the password of a connection URL quoted in a message or an error', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'test', level: 'debug', destination });
    log.warn('cannot reach rediss://labelstream:0f3e9a7b@127.0.0.1:26380 (retrying)');
    log.error({ err: new Error('connect failed for https://svc:s3cr3t-pw@registry.internal/apis/ccompat/v7') }, 'registry');
    const all = lines.join('\n');
    for (const secret of ['0f3e9a7b', 's3cr3t-pw']) expect(all).not.toContain(secret);
    expect(all).toContain('rediss://labelstream:***@127.0.0.1:26380');
    expect(all).toContain('https://svc:***@registry.internal/apis/ccompat/v7');
  });

  it('writes JSON lines with service and level', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'svc', destination }).info({ n: 1 }, 'hello');
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ service: 'svc', level: 'info', n: 1, msg: 'hello' });
  });

  it('keeps an error’s class, message, stack, code and cause chain, scrubbed', () => {
    class StoreError extends Error {
      constructor(
        message: string,
        readonly code: string,
        readonly context: Record<string, unknown>,
        options?: { cause?: unknown },
      ) {
        super(message, options);
        this.name = 'StoreError';
      }
    }
    const root = new Error(`connect ECONNREFUSED rediss://labelstream:0f3e9a7b@127.0.0.1:26380 for ${canaryEmail}`);
    const middle = new TypeError('reply was not a list', { cause: root });
    const top = new StoreError('commit failed', 'REDIS_COMMIT', { partition: 3, email: canaryEmail }, { cause: middle });
    const { lines, destination } = capture();
    const log = createLogger({ service: 'test', destination });
    log.error({ err: top, topic: 't' }, 'commit');
    log.error(top); // the error as the first argument
    log.warn({ detail: { failure: middle } }, 'nested error'); // not under `err`
    const all = lines.join('\n');
    for (const secret of [canaryEmail, '0f3e9a7b']) expect(all).not.toContain(secret);
    for (const line of lines.slice(0, 2)) {
      const { err } = JSON.parse(line);
      expect(err).toMatchObject({ type: 'StoreError', message: 'commit failed', code: 'REDIS_COMMIT', context: { partition: 3, email: '[REDACTED]' } });
      expect(err.stack).toMatch(/^StoreError: commit failed\n\s+at /);
      expect(err.stack).toContain('logger.test.ts');
      expect(err.cause).toMatchObject({ type: 'TypeError', message: 'reply was not a list' });
      expect(err.cause.stack).toMatch(/^TypeError: reply was not a list\n\s+at /);
      expect(err.cause.cause.type).toBe('Error');
      expect(err.cause.cause.message).toBe('connect ECONNREFUSED rediss://labelstream:***@127.0.0.1:26380 for [EMAIL]');
      expect(err.cause.cause.stack).toContain('rediss://labelstream:***@127.0.0.1:26380');
    }
    const nested = JSON.parse(lines[2]!).detail.failure;
    expect(nested).toMatchObject({ type: 'TypeError', message: 'reply was not a list', cause: { type: 'Error' } });
    expect(nested.stack).toContain('logger.test.ts');
  });

  it('scrubs child-logger bindings too', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'test', destination });
    log.child({ customer: { id: 'c-9', email: canaryEmail } }).child({ note: `from ${canaryPhone}` }).info('bound');
    const rec = JSON.parse(lines[0]!);
    expect(lines[0]).not.toContain(canaryEmail);
    expect(lines[0]).not.toContain('7946');
    expect(rec.customer).toEqual({ id: 'c-9', email: '[REDACTED]' });
  });

  it('survives a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = new Error('b', { cause: a });
    const { lines, destination } = capture();
    createLogger({ service: 'test', destination }).error({ err: a }, 'cycle');
    const rec = JSON.parse(lines[0]!);
    expect(rec.err.message).toBe('a');
    expect(rec.err.cause.message).toBe('b');
  });
});
