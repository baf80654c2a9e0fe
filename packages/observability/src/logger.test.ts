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
});
