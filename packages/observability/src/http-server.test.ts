import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { startHttpServer } from './http-server';

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
});
