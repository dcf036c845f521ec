#!/usr/bin/env node
/* global process, URL, fetch, Buffer */
/**
 * The servers of bench/sections/50-proxy.mjs, each in a child process of its own (forked with IPC), so
 * the load generator, the upstream and the server under test do not share an event loop:
 *   upstream     a loopback stand-in that answers like the vendor (the task envelope of a lookup)
 *   passthrough  a minimal hand-written node:http pass-through with a keep-alive agent
 *   fetch-passthrough  the same on the platform's fetch (what an app would otherwise write)
 *   proxy        toNodeHandler(createKlingAudioProxy(...)) from the bundle the section builds
 * Each sends { port } once listening, and answers { stats } (heap, token signatures, requests) when asked.
 */
import { createServer, request as httpRequest, Agent } from 'node:http';

const [role, upstreamUrl, proxyModule] = process.argv.slice(2);
let requests = 0;
let signatures = 0;

const task = {
  task_id: '786412301234',
  task_status: 'succeed',
  task_status_msg: '',
  task_info: { external_task_id: 'order-42' },
  task_result: {
    audios: [
      {
        id: '786412301234-0',
        url_mp3: 'https://cdn.klingai.com/bs2/upload-kling-api/786412301234/audio.mp3',
        url_wav: 'https://cdn.klingai.com/bs2/upload-kling-api/786412301234/audio.wav',
        duration_mp3: '5.0',
        duration_wav: '5.0',
      },
    ],
  },
  final_unit_deduction: '1',
  created_at: 1722769557708,
  updated_at: 1722769561708,
};

async function start() {
  if (role === 'upstream') {
    let n = 0;
    return createServer((req, res) => {
      requests++;
      req.resume();
      if (!req.headers.authorization) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"code":1001,"message":"Authorization header empty","request_id":"u","data":null}');
      }
      const requestId = `bench-${++n}`;
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': requestId });
      res.end(JSON.stringify({ code: 0, message: 'SUCCEED', request_id: requestId, data: task }));
    });
  }
  const target = new URL(upstreamUrl);
  if (role === 'passthrough') {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    return createServer((req, res) => {
      requests++;
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url.replace(/^\/api\/kling/, ''),
          agent,
          headers: { accept: 'application/json', authorization: 'Bearer static-token' },
        },
        (answer) => {
          res.writeHead(answer.statusCode, {
            'content-type': answer.headers['content-type'] ?? 'application/json',
          });
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
  }
  if (role === 'fetch-passthrough') {
    // What an app would otherwise write on fetch: the same pass-through, with the platform's fetch.
    return createServer(async (req, res) => {
      requests++;
      req.resume();
      try {
        const answer = await fetch(upstreamUrl + req.url.replace(/^\/api\/kling/, ''), {
          method: req.method,
          headers: { accept: 'application/json', authorization: 'Bearer static-token' },
        });
        const body = Buffer.from(await answer.arrayBuffer());
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/json',
        });
        res.end(body);
      } catch {
        res.writeHead(502);
        res.end();
      }
    });
  }
  // Every HMAC signature the proxy makes goes through WebCrypto: count them.
  const sign = globalThis.crypto.subtle.sign.bind(globalThis.crypto.subtle);
  globalThis.crypto.subtle.sign = (...args) => {
    signatures++;
    return sign(...args);
  };
  const { createKlingAudioProxy, toNodeHandler } = await import(proxyModule);
  const handler = toNodeHandler(
    createKlingAudioProxy({
      accessKey: 'ak_bench_access',
      secretKey: 'sk_bench_secret_0123456789',
      upstream: upstreamUrl,
      authorize: () => true,
    }),
  );
  return createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    requests++;
    handler(req, res);
  });
}

const server = await start();
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'stats') {
    globalThis.gc?.();
    process.send({ stats: { heapUsed: process.memoryUsage().heapUsed, requests, signatures } });
  }
  if (message === 'exit') process.exit(0);
});
