'use strict';
/* global fetch, AbortSignal */
// A container entry point, like services/*/src/main.ts: it may read the environment.
/* eslint-disable no-restricted-syntax */
/*
 * Docker HEALTHCHECK for the Labelstream image: GET /healthz on the service's own HTTP
 * port, exit 0 on 200 and 1 otherwise. One image runs three services on three default
 * ports, so the port is HTTP_PORT when set, else the default of the service named on the
 * command line of PID 1 (ingest 9464, evaluator 9465, publisher 9466). Plain Node: the
 * slim image has no curl.
 */
const { readFileSync } = require('node:fs');

const DEFAULT_PORTS = { ingest: 9464, evaluator: 9465, publisher: 9466 };

function port() {
  if (process.env.HTTP_PORT) return Number(process.env.HTTP_PORT);
  let cmdline = '';
  try {
    cmdline = readFileSync('/proc/1/cmdline', 'utf8');
  } catch {
    // not Linux, or /proc hidden: fall back to the ingest default
  }
  const m = /services\/(ingest|evaluator|publisher)\//.exec(cmdline);
  return m ? DEFAULT_PORTS[m[1]] : DEFAULT_PORTS.ingest;
}

// The service binds HTTP_HOST (default 0.0.0.0); loopback reaches it unless it was bound
// to one specific address.
const host = !process.env.HTTP_HOST || process.env.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : process.env.HTTP_HOST;

fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port()}/healthz`, { signal: AbortSignal.timeout(3000) })
  .then((res) => process.exit(res.status === 200 ? 0 : 1))
  .catch(() => process.exit(1));
