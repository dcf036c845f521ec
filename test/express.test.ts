// @vitest-environment node
/**
 * `toNodeHandler` in a real Express 5 app: mounted with `app.use(toNodeHandler(proxy))` it answers the
 * proxy's routes and hands every other path of the app to the next middleware (the README's first mount
 * used to answer the whole app with 404 `{"code":1203}`); mounted under the base path it works too.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { http, passthrough } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockKlingBackend } from '../src/mocks';
import { createKlingAudioProxy, toNodeHandler } from '../src/server';
import { server as msw } from './server';

const VENDOR = 'http://vendor.test';
const servers: Server[] = [];
// Real HTTP to the app on loopback: msw lets it through.
beforeEach(() => msw.use(http.all(/^http:\/\/127\.0\.0\.1:/, () => passthrough())));
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function proxy() {
  const backend = createMockKlingBackend({ baseUrl: VENDOR });
  return createKlingAudioProxy({
    apiKey: 'key',
    upstream: VENDOR,
    basePath: '/api/kling',
    authorize: () => true,
    fetch: (input, init) => backend.fetch(new Request(input, init)),
  });
}

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0);
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const LIST = '/api/kling/v1/audio/text-to-audio?pageNum=1&pageSize=5';

describe('toNodeHandler in Express 5', () => {
  it('app.use(toNodeHandler(proxy)): the proxy answers its routes, the rest of the app still works', async () => {
    const app = express();
    app.use(toNodeHandler(proxy()));
    app.get('/health', (_req, res) => void res.send('ok'));
    app.post('/api/other', express.json(), (req, res) => void res.json({ echoed: req.body }));
    const base = await listen(app);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');

    // A path that only starts like the base path is not under it.
    const other = await fetch(`${base}/api/other`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await other.json()).toEqual({ echoed: { a: 1 } });
    expect((await fetch(`${base}/api/klingon`)).status).toBe(404);
    expect((await fetch(`${base}/api/klingon`)).headers.get('content-type')).not.toMatch(/json/);

    const list = await fetch(base + LIST);
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ code: 0, data: [] });
    // Under the base path, an unknown route is still the proxy's own 404.
    const unknown = await fetch(`${base}/api/kling/v1/other`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 1203 });
  });

  it("app.use('/api/kling', toNodeHandler(proxy)) works the same (Express strips the mount path)", async () => {
    const app = express();
    app.use('/api/kling', toNodeHandler(proxy()));
    app.get('/health', (_req, res) => void res.send('ok'));
    const base = await listen(app);
    expect(await (await fetch(`${base}/health`)).text()).toBe('ok');
    const list = await fetch(base + LIST);
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ code: 0 });
  });

  it('a plain node:http server (no next) answers paths outside the base path with the 404 envelope', async () => {
    const { createServer } = await import('node:http');
    const server = createServer(toNodeHandler(proxy())).listen(0);
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const outside = await fetch(`${base}/health`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toMatchObject({ code: 1203 });
  });
});
