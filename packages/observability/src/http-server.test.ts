import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { pathSegments, startHttpServer } from './http-server';

const quiet = createLogger({ service: 't', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

describe('http server', () => {
  it('serves metrics, health, readiness and token-protected admin routes', async () => {
    const metrics = createMetrics('t', { defaultMetrics: false });
    metrics.eventsConsumed.inc({ topic: 'a', type: 'PURCHASE' }, 3);
    let ready = false;
    const srv = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      logger: quiet,
      health: () => ({ live: true, ready, details: { partitions: 0 } }),
      admin: { token: 'a-very-long-admin-token', routes: { echo: async ({ path }) => ({ status: 200, body: { path } }) } },
    });
    const base = `http://127.0.0.1:${srv.port}`;
    try {
      const m = await fetch(`${base}/metrics`);
      expect(await m.text()).toMatch(/labelstream_events_consumed_total\{topic="a",type="PURCHASE",service="t"\} 3/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/admin/echo/x`)).status).toBe(401);
      expect((await fetch(`${base}/admin/echo/x`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      const ok = await fetch(`${base}/admin/echo/c-1`, { headers: { authorization: 'Bearer a-very-long-admin-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ path: ['c-1'] });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await srv.close();
    }
  });

  describe('malformed and hostile requests', () => {
    const token = 'a-very-long-admin-token';
    const auth = { authorization: `Bearer ${token}` };
    let base = '';
    let close: () => Promise<void> = async () => undefined;
    const logged: string[] = [];
    const logger = createLogger({ service: 't', destination: new Writable({ write: (c: Buffer, _e, cb) => (logged.push(c.toString()), cb()) }) });

    beforeAll(async () => {
      const srv = await startHttpServer({
        host: '127.0.0.1',
        port: 0,
        registry: createMetrics('t', { defaultMetrics: false }).registry,
        logger,
        health: () => ({ live: true, ready: true, details: {} }),
        admin: { token, routes: { echo: async ({ path }) => ({ status: 200, body: { path } }) } },
      });
      base = `http://127.0.0.1:${srv.port}`;
      close = srv.close;
    });
    afterAll(() => close());
    afterEach(() => {
      // None of these is a server error: nothing is logged at error level.
      expect(logged.filter((l) => /"level":"(error|fatal)"/.test(l))).toEqual([]);
      logged.length = 0;
    });

    it('answers a bad percent-encoding with 400, without a token, before any route', async () => {
      expect((await fetch(`${base}/x%`)).status).toBe(400);
      expect((await fetch(`${base}/admin/echo/%E0%A4%A`)).status).toBe(400);
      expect((await fetch(`${base}/admin/%`)).status).toBe(400);
    });

    it('answers a bad percent-encoding with 400 with a token too', async () => {
      expect((await fetch(`${base}/admin/echo/%zz`, { headers: auth })).status).toBe(400);
    });

    it('answers a path segment that decodes to a control character with 400', async () => {
      expect((await fetch(`${base}/admin/echo/a%00b`, { headers: auth })).status).toBe(400);
    });

    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('resolves /admin/%s to 404, not to an Object property', async (name) => {
      const res = await fetch(`${base}/admin/${name}`, { headers: auth });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { routes: string[] }).routes).toEqual(['echo']);
    });

    it('still asks for the token first on real routes', async () => {
      expect((await fetch(`${base}/admin/constructor`)).status).toBe(401);
      expect((await fetch(`${base}/admin/echo/ok`, { headers: auth })).status).toBe(200);
    });
  });

  it('splits and decodes path segments, refusing malformed ones', () => {
    expect(pathSegments('/admin/customers/c%2D1')).toEqual(['admin', 'customers', 'c-1']);
    expect(pathSegments('//a//b/')).toEqual(['a', 'b']);
    expect(pathSegments('/x%')).toBeUndefined();
    expect(pathSegments('/a%0a')).toBeUndefined();
  });
});
