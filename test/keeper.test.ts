// @vitest-environment node
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { http, passthrough } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPublicAddress } from '../src/server/keep/address';
import {
  createKeepQueue,
  fetchAudioFile,
  KeepError,
  type FetchAudioFileOptions,
  type KeepTransport,
} from '../src/server/keep/keeper';
import { server as msw } from './server';

// ---------------------------------------------------------------------------------------------
// A fake CDN on loopback. The keeper reaches it only through an injected lookup (its name resolves to a
// public address) and transport (which connects to loopback instead of that address), so every check of
// the real code runs on the way.

const PUBLIC = '93.184.215.14';
const WAV = new Uint8Array([
  ...new TextEncoder().encode('RIFF\x24\x00\x00\x00WAVEfmt '),
  ...Array(64).fill(7),
]);

interface CdnHit {
  path: string;
  host: string | undefined;
}
let hits: CdnHit[] = [];
let cdn: Server;
let cdnPort: number;
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok.wav': (res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(WAV),
  '/ok.mp3': (res) => res.writeHead(200, { 'content-type': 'audio/mpeg; charset=binary' }).end(WAV),
  '/page.html': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hi</h1>'),
  '/none': (res) => res.writeHead(200).end(WAV),
  '/moved.wav': (res) => res.writeHead(302, { location: `https://cdn.test/ok.wav` }).end(),
  '/big.wav': (res) => res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': '999999' }).end(),
  // No declared length: the cap has to be found while reading.
  '/stream.wav': (res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    for (let i = 0; i < 20; i++) res.write(new Uint8Array(1024));
    res.end();
  },
  '/gone.wav': (res) => res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error/>'),
  '/busy.wav': (res) => res.writeHead(503).end(),
  '/slow.wav': () => {
    // Never answers: the timeout has to end it.
  },
};

beforeAll(async () => {
  cdn = createServer((req, res) => {
    hits.push({ path: req.url ?? '', host: req.headers.host });
    (routes[req.url ?? ''] ?? ((r) => r.writeHead(404).end()))(res);
  });
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  cdnPort = (cdn.address() as AddressInfo).port;
});
afterAll(async () => {
  cdn.closeAllConnections();
  await new Promise((resolve) => cdn.close(resolve));
});
beforeEach(() => {
  // The setup resets handlers after each test.
  msw.use(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()));
  hits = [];
});

const addressesSeen: string[] = [];
/** Connects to the loopback CDN whatever address it was given, and records that address. */
const toCdn: KeepTransport = (url, { signal, headers, address }) => {
  addressesSeen.push(address);
  const { pathname } = new URL(url);
  return fetch(`http://127.0.0.1:${cdnPort}${pathname}`, { signal, headers, redirect: 'manual' });
};
const names: Record<string, string[]> = {
  'cdn.test': [PUBLIC],
  'cdn6.test': ['2606:2800:220:1:248:1893:25c8:1946'],
  'inside.test': ['10.1.2.3'],
  // A rebinding name: one public answer, one inside.
  'mixed.test': [PUBLIC, '127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'nat64.test': ['64:ff9b::a00:1'],
};
const options: FetchAudioFileOptions = {
  fetch: toCdn,
  lookup: async (host) => {
    const list = names[host];
    if (!list) throw new Error('ENOTFOUND');
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  },
  timeoutMs: 2_000,
};

const refusal = async (url: string, extra?: FetchAudioFileOptions) => {
  try {
    await fetchAudioFile(url, { ...options, ...extra });
  } catch (error) {
    expect(error).toBeInstanceOf(KeepError);
    return { reason: (error as KeepError).reason, retryable: (error as KeepError).retryable };
  }
  throw new Error(`${url} was kept`);
};

describe('fetchAudioFile', () => {
  it('keeps the bytes the CDN sent, with its audio type, connecting to the checked address', async () => {
    addressesSeen.length = 0;
    const file = await fetchAudioFile('https://cdn.test/ok.wav', options);
    expect(file.contentType).toBe('audio/wav');
    expect([...file.bytes]).toEqual([...WAV]);
    expect((await fetchAudioFile('https://cdn.test/ok.mp3', options)).contentType).toBe('audio/mpeg');
    expect(await fetchAudioFile('https://cdn6.test/ok.wav', options)).toMatchObject({
      contentType: 'audio/wav',
    });
    expect(addressesSeen).toEqual([PUBLIC, PUBLIC, '2606:2800:220:1:248:1893:25c8:1946']);
    expect(hits.map((hit) => hit.path)).toEqual(['/ok.wav', '/ok.mp3', '/ok.wav']);
  });

  it.each([
    ['http://cdn.test/ok.wav', 'not-https'],
    ['ftp://cdn.test/ok.wav', 'not-https'],
    ['file:///etc/passwd', 'not-https'],
    ['https://user:pw@cdn.test/ok.wav', 'not-https'],
    ['not a url', 'not-https'],
    ['https://inside.test/ok.wav', 'private-address'],
    ['https://mixed.test/ok.wav', 'private-address'],
    ['https://metadata.test/latest/meta-data', 'private-address'],
    ['https://mapped.test/ok.wav', 'private-address'],
    ['https://nat64.test/ok.wav', 'private-address'],
    ['https://127.0.0.1/ok.wav', 'private-address'],
    ['https://0x7f.1/ok.wav', 'private-address'],
    ['https://2130706433/ok.wav', 'private-address'],
    ['https://[::1]/ok.wav', 'private-address'],
    ['https://[::ffff:127.0.0.1]/ok.wav', 'private-address'],
    ['https://[::ffff:a9fe:a9fe]/ok.wav', 'private-address'],
    ['https://[fe80::1]/ok.wav', 'private-address'],
    ['https://[fd00::1]/ok.wav', 'private-address'],
    ['https://[64:ff9b::192.168.0.1]/ok.wav', 'private-address'],
    ['https://[2002:c0a8:1::]/ok.wav', 'private-address'],
    ['https://100.64.0.1/ok.wav', 'private-address'],
    ['https://0.0.0.0/ok.wav', 'private-address'],
    ['https://224.0.0.1/ok.wav', 'private-address'],
  ])('never fetches %s (%s)', async (url, reason) => {
    expect((await refusal(url)).reason).toBe(reason);
    expect(hits).toEqual([]);
  });

  it('refuses redirects, non-audio and oversized answers, and keeps nothing of them', async () => {
    expect(await refusal('https://cdn.test/moved.wav')).toEqual({ reason: 'redirect', retryable: false });
    expect(await refusal('https://cdn.test/page.html')).toEqual({ reason: 'not-audio', retryable: false });
    expect(await refusal('https://cdn.test/none')).toEqual({ reason: 'not-audio', retryable: false });
    expect(await refusal('https://cdn.test/big.wav', { maxBytes: 1000 })).toMatchObject({
      reason: 'too-large',
    });
    expect(await refusal('https://cdn.test/stream.wav', { maxBytes: 10_000 })).toMatchObject({
      reason: 'too-large',
    });
    // The redirect's target was never asked for.
    expect(hits.map((hit) => hit.path)).toEqual([
      '/moved.wav',
      '/page.html',
      '/none',
      '/big.wav',
      '/stream.wav',
    ]);
  });

  it('tells failures worth retrying from dead files', async () => {
    expect(await refusal('https://cdn.test/gone.wav')).toEqual({ reason: 'http-status', retryable: false });
    expect(await refusal('https://cdn.test/busy.wav')).toEqual({ reason: 'http-status', retryable: true });
    expect(await refusal('https://nowhere.test/x.wav')).toEqual({ reason: 'unresolvable', retryable: true });
    expect(await refusal('https://cdn.test/slow.wav', { timeoutMs: 200 })).toEqual({
      reason: 'timeout',
      retryable: true,
    });
  });

  it('with the default lookup and transport, never connects to an inside address', async () => {
    let connections = 0;
    const trap = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const { port } = trap.address() as AddressInfo;
    try {
      for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]', '[::1]', '127.1']) {
        await expect(fetchAudioFile(`https://${host}:${port}/a.wav`)).rejects.toMatchObject({
          reason: 'private-address',
        });
      }
      await expect(fetchAudioFile(`http://${'localhost'}:${port}/a.wav`)).rejects.toMatchObject({
        reason: 'not-https',
      });
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
    expect(connections).toBe(0);
  });
});

describe('isPublicAddress', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const dotted = (parts: number[]) => parts.join('.');
  const hex = ([a, b, c, d]: number[]) => `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;

  it('gives every IPv6 form that embeds an IPv4 address the IPv4 verdict', () => {
    fc.assert(
      fc.property(v4, (parts) => {
        const verdict = isPublicAddress(dotted(parts));
        for (const form of [
          `::ffff:${dotted(parts)}`,
          `::ffff:${hex(parts)}`,
          `::${dotted(parts)}`,
          `64:ff9b::${hex(parts)}`,
          `::ffff:0:${dotted(parts)}`,
          `2002:${hex(parts)}::1`,
        ]) {
          expect(isPublicAddress(form), form).toBe(verdict);
        }
      }),
    );
  });

  it('refuses every address of the private, loopback, link-local and CGNAT blocks', () => {
    const inBlock = (first: number, second: fc.Arbitrary<number>) =>
      fc.tuple(fc.constant(first), second, fc.nat(255), fc.nat(255)).map(dotted);
    fc.assert(
      fc.property(
        fc.oneof(
          inBlock(10, fc.nat(255)),
          inBlock(127, fc.nat(255)),
          inBlock(172, fc.integer({ min: 16, max: 31 })),
          inBlock(192, fc.constant(168)),
          inBlock(169, fc.constant(254)),
          inBlock(100, fc.integer({ min: 64, max: 127 })),
          inBlock(0, fc.nat(255)),
          fc.tuple(fc.integer({ min: 224, max: 255 }), fc.nat(255), fc.nat(255), fc.nat(255)).map(dotted),
        ),
        (address) => {
          expect(isPublicAddress(address)).toBe(false);
        },
      ),
    );
  });

  it('accepts public unicast and refuses what is not an address', () => {
    for (const address of ['8.8.8.8', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700::1111'])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '::',
      '::1',
      'fe80::1%eth0',
      'ff02::1',
      'fc00::1',
      '2001:db8::1',
      '2001::1',
      'localhost',
      '1.2.3',
      '256.1.1.1',
      '',
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });
});

describe('createKeepQueue', () => {
  it('runs each key once while it is busy, a bounded number at a time, and retries what may work later', async () => {
    const queue = createKeepQueue({ concurrency: 2, retries: 2, backoffMs: 5 });
    let running = 0;
    let most = 0;
    const runs: string[] = [];
    const job = (key: string, failures = 0) => {
      let left = failures;
      return async () => {
        runs.push(key);
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        if (left-- > 0) throw new KeepError('network', 'down');
      };
    };
    for (const key of ['a', 'b', 'c', 'd']) {
      queue.add(key, job(key));
      queue.add(key, job(key));
    }
    queue.add('flaky', job('flaky', 2));
    await queue.idle();
    expect(most).toBe(2);
    expect(runs.filter((key) => key !== 'flaky').sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(runs.filter((key) => key === 'flaky')).toHaveLength(3);
  });

  it('gives a refusal up at once and tries a failed key again only after retryLaterMs', async () => {
    const failures: string[] = [];
    const queue = createKeepQueue({
      retries: 3,
      backoffMs: 1,
      retryLaterMs: 50,
      onFailure: (key) => failures.push(key),
    });
    let runs = 0;
    const refuse = async () => {
      runs++;
      throw new KeepError('not-audio', 'html');
    };
    queue.add('x', refuse);
    await queue.idle();
    queue.add('x', refuse);
    await queue.idle();
    expect(runs).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    queue.add('x', refuse);
    await queue.idle();
    expect(runs).toBe(2);
    expect(failures).toEqual(['x', 'x']);
  });
});
