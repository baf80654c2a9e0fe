import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

/** What /healthz and /readyz report. `ready` means connected and assigned work. */
export interface HealthReport {
  live: boolean;
  ready: boolean;
  details: Record<string, unknown>;
}

/** An admin route answers JSON; it only runs for requests bearing the admin token. */
export type AdminRoute = (params: { path: string[]; query: URLSearchParams }) => Promise<{ status: number; body: unknown }>;

export interface HttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  health: () => HealthReport;
  logger: Logger;
  /** Admin routes by first path segment after /admin/, e.g. `customers` for /admin/customers/:id. */
  admin?: { token?: string; routes: Record<string, AdminRoute> };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/** The request target as a URL, or undefined when it cannot be one. */
function parseUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/**
 * The decoded, non-empty segments of a path, or undefined when one is not valid
 * percent-encoding (`/x%`, `/%E0%A4%A`) or decodes to a control character.
 */
export function pathSegments(pathname: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (!raw) continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) return undefined;
    out.push(segment);
  }
  return out;
}

/**
 * Serves /metrics, /healthz, /readyz and the token-protected /admin/* routes. Node's own
 * http module is enough for four routes; it keeps the services free of a web framework.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Malformed requests are answered before anything else runs (no token check, no route,
    // no error log): they are the client's fault, not ours.
    const url = parseUrl(req.url);
    if (!url) return send(res, 400, { error: 'malformed request target' });
    if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
    if (url.pathname === '/metrics') {
      opts.health(); // refreshes readiness-derived gauges (labelstream_ready) on every scrape
      return send(res, 200, await opts.registry.metrics(), opts.registry.contentType);
    }
    if (url.pathname === '/healthz') {
      const h = opts.health();
      return send(res, h.live ? 200 : 503, { status: h.live ? 'ok' : 'failing', ...h.details });
    }
    if (url.pathname === '/readyz') {
      const h = opts.health();
      return send(res, h.ready ? 200 : 503, { status: h.ready ? 'ready' : 'not ready', ...h.details });
    }
    const parts = pathSegments(url.pathname);
    if (!parts) return send(res, 400, { error: 'malformed percent-encoding in the path' });
    if (parts[0] === 'admin' && opts.admin) {
      if (!opts.admin.token) return send(res, 404, { error: 'admin endpoints are disabled (set ADMIN_TOKEN)' });
      const auth = req.headers.authorization;
      const presented = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
      if (!tokenMatches(presented, opts.admin.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'missing or invalid bearer token' });
      }
      // Own properties only: /admin/constructor or /admin/__proto__ must not find Object's.
      const name = parts[1] ?? '';
      const route = Object.hasOwn(opts.admin.routes, name) ? opts.admin.routes[name] : undefined;
      if (typeof route !== 'function') return send(res, 404, { error: 'no such admin route', routes: Object.keys(opts.admin.routes) });
      const out = await route({ path: parts.slice(2), query: url.searchParams });
      return send(res, out.status, out.body);
    }
    return send(res, 404, { error: 'not found', routes: ['/metrics', '/healthz', '/readyz', '/admin/…'] });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
