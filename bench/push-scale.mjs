#!/usr/bin/env node
/* global process, Buffer, performance, setTimeout, setInterval */
/**
 * The processes of bench/sections/75-push-scale.mjs, each forked with IPC and `--expose-gc`:
 *   proxy    toNodeHandler(createKlingAudioProxy(...)) from the bundle the section builds; changes are
 *            appended to its event log (what a callback or a poll does after the vendor answered)
 *   bare     a bare node:http SSE server: streams in per-user sets, one heartbeat timer, each event
 *            serialised once (the least a server can hold per stream)
 *   clients  the streams' sockets: raw TCP, each reading its stream and noting when a marked event arrives
 * Servers send { port } once listening; every answer to a command carries its `id`.
 */
import { createServer } from 'node:http';
import { connect } from 'node:net';

const [role, proxyModule, heartbeatArg] = process.argv.slice(2);
const heartbeatMs = Number(heartbeatArg ?? 1000);
const now = () => performance.timeOrigin + performance.now();
const reply = (id, body) => process.send({ id, ...body });
const task = (owner, seq) => ({
  task_id: `bench-${seq}`,
  task_status: 'processing',
  task_status_msg: '',
  task_info: { external_task_id: `order-${owner}-${seq}` },
  created_at: 1722769557708,
  updated_at: 1722769557708 + seq,
});

function heap() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

/** CPU time (user + system, µs) spent over `ms` with nothing but heartbeats going on. */
async function idleCpu(ms) {
  const start = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { user, system } = process.cpuUsage(start);
  return user + system;
}

async function server() {
  let publish;
  let handler;
  if (role === 'proxy') {
    const lib = await import(proxyModule);
    const log = lib.createMemoryTaskEventLog();
    const proxy = lib.createKlingAudioProxy({
      apiKey: 'bench',
      upstream: 'http://127.0.0.1:9',
      authorize: (request) => {
        const user = request.headers.get('x-user');
        return user === 'shared' ? true : user;
      },
      callbackUrl: 'http://127.0.0.1/api/kling',
      store: lib.createMemoryTaskStore(),
      keepAudio: false,
      events: log,
      eventStream: { heartbeatMs, maxConnectionsPerUser: 100 },
    });
    handler = lib.toNodeHandler(proxy);
    publish = (owner, seq) => log.append(owner, task(owner, seq));
  } else {
    const groups = new Map();
    let ids = 0;
    handler = (req, res) => {
      const user = req.headers['x-user'];
      const key = user === 'shared' ? '\0shared' : user;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = new Set()));
      group.add(res);
      res.on('close', () => group.delete(res));
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      res.write('retry: 2000\n: connected\n\n');
    };
    const beat = Buffer.from(': heartbeat\n\n');
    setInterval(() => {
      for (const group of groups.values()) for (const res of group) res.write(beat);
    }, heartbeatMs);
    publish = (owner, seq) => {
      const bytes = Buffer.from(`event: task\nid: ${++ids}\ndata: ${JSON.stringify(task(owner, seq))}\n\n`);
      for (const res of groups.get(owner) ?? []) res.write(bytes);
      for (const res of groups.get('\0shared') ?? []) res.write(bytes);
    };
  }
  const httpServer = createServer(handler);
  httpServer.listen(0, '127.0.0.1', 2048, () => process.send({ port: httpServer.address().port }));
  process.on('message', async ({ id, cmd, owner, seq, ms }) => {
    if (cmd === 'heap') return reply(id, heap());
    if (cmd === 'cpu') return reply(id, { cpu: await idleCpu(ms) });
    if (cmd === 'publish') {
      const sent = now();
      await publish(owner, seq);
      return reply(id, { sent });
    }
  });
}

function clients() {
  const sockets = [];
  /** The marker awaited now, and when each socket saw it. */
  let waiting;
  process.on('message', async ({ id, cmd, port, from, to, users, seq, owner }) => {
    if (cmd === 'open') {
      // In batches, each waiting for its streams' first bytes, so the listen backlog never overflows.
      for (let start = from; start < to; start += 250) {
        const batch = [];
        for (let i = start; i < Math.min(to, start + 250); i++) {
          const user = i === 0 ? 'shared' : `u${i % users}`;
          batch.push(
            new Promise((resolve, reject) => {
              const socket = connect(port, '127.0.0.1');
              socket.user = user;
              socket.setEncoding('latin1');
              socket.once('error', reject);
              socket.on('data', (chunk) => {
                if (!socket.ready && chunk.includes(': connected')) {
                  socket.ready = true;
                  resolve();
                }
                if (waiting && !waiting.arrived.has(socket) && chunk.includes(waiting.marker)) {
                  waiting.arrived.set(socket, now());
                  if (waiting.arrived.size === waiting.expected) waiting.done();
                }
              });
              socket.write(
                `GET /api/kling/v1/audio/text-to-audio/events HTTP/1.1\r\nHost: 127.0.0.1\r\nx-user: ${user}\r\n\r\n`,
              );
              sockets.push(socket);
            }),
          );
        }
        await Promise.all(batch);
      }
      return reply(id, { open: sockets.length });
    }
    if (cmd === 'expect') {
      const expected = sockets.filter((socket) => socket.user === owner || socket.user === 'shared').length;
      const arrived = new Map();
      const finished = new Promise((resolve) => {
        waiting = { marker: `"task_id":"bench-${seq}"`, arrived, expected, done: resolve };
      });
      reply(id, { ready: true });
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 5000))]);
      waiting = undefined;
      const user = [];
      const shared = [];
      for (const [socket, at] of arrived) (socket.user === 'shared' ? shared : user).push(at);
      return process.send({ id: `${id}-done`, user, shared, missing: expected - arrived.size });
    }
    if (cmd === 'close') {
      for (const socket of sockets.splice(0)) socket.destroy();
      return reply(id, {});
    }
  });
  process.send({ port: 0 });
}

if (role === 'clients') clients();
else await server();
