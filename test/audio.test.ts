import { describe, expect, it } from 'vitest';
import { createKlingAudioClient } from '../src';
import {
  createMockKlingBackend,
  encodeMp3,
  mp3Duration,
  MOCK_SAMPLE_RATE,
  MOCK_TASK_IDS,
  mockTaskSeeds,
  soundKindForPrompt,
  synthesizeSamples,
  synthesizeWav,
  type MockKlingBackendOptions,
} from '../src/mocks';
import { transports, type Connect } from './transports';

const ORIGIN = 'http://app.test';
const BASE = `${ORIGIN}/api/kling`;
const T0 = 1_722_769_557_708;

interface WavInfo {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataBytes: number;
  duration: number;
  samples: Int16Array;
}

/** Reads a RIFF/WAVE file chunk by chunk, as a decoder would (independent of the writer). */
function parseWav(bytes: Uint8Array): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  expect(tag(0)).toBe('RIFF');
  expect(view.getUint32(4, true)).toBe(bytes.length - 8);
  expect(tag(8)).toBe('WAVE');
  let offset = 12;
  let fmt: Omit<WavInfo, 'dataBytes' | 'duration' | 'samples'> | undefined;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ') {
      fmt = {
        format: view.getUint16(offset + 8, true),
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      };
      expect(view.getUint32(offset + 16, true)).toBe((fmt.sampleRate * fmt.channels * fmt.bitsPerSample) / 8);
    } else if (id === 'data') {
      expect(fmt).toBeDefined();
      expect(offset + 8 + size).toBe(bytes.length);
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(offset + 8 + i * 2, true);
      return { ...fmt!, dataBytes: size, duration: size / (fmt!.sampleRate * fmt!.channels * 2), samples };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG2_RATES = [22050, 24000, 16000];

/** Walks MPEG-2 Layer III frames from the first frame sync to the end; every frame must chain exactly. */
function parseMp3(bytes: Uint8Array) {
  let offset = 0;
  if (String.fromCharCode(...bytes.subarray(0, 3)) === 'ID3') {
    const size =
      ((bytes[6]! & 0x7f) << 21) |
      ((bytes[7]! & 0x7f) << 14) |
      ((bytes[8]! & 0x7f) << 7) |
      (bytes[9]! & 0x7f);
    offset = 10 + size;
  }
  let frames = 0;
  let sampleRate = 0;
  let kbps = 0;
  while (offset + 4 <= bytes.length) {
    const header =
      ((bytes[offset]! << 24) |
        (bytes[offset + 1]! << 16) |
        (bytes[offset + 2]! << 8) |
        bytes[offset + 3]!) >>>
      0;
    expect((header >>> 21) & 0x7ff, `frame sync at byte ${offset}`).toBe(0x7ff);
    expect((header >>> 19) & 0b11, 'MPEG-2').toBe(0b10);
    expect((header >>> 17) & 0b11, 'Layer III').toBe(0b01);
    kbps = MPEG2_L3_KBPS[(header >>> 12) & 0xf]!;
    sampleRate = MPEG2_RATES[(header >>> 10) & 0b11]!;
    const padding = (header >>> 9) & 1;
    offset += Math.floor((72_000 * kbps) / sampleRate) + padding;
    frames++;
  }
  expect(offset).toBe(bytes.length);
  return { frames, sampleRate, kbps, duration: (frames * 576) / sampleRate };
}

const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

/** A backend with tasks that have already finished, and a connected fetch. */
function setup(connect: Connect, options: Partial<MockKlingBackendOptions> = {}) {
  let clock = T0;
  const backend = createMockKlingBackend({
    baseUrl: '/api/kling',
    now: () => clock,
    timing: { submittedMs: 100, processingMs: 100 },
    ...options,
  });
  const fetch = connect(backend);
  const client = createKlingAudioClient({ baseUrl: BASE, fetch });
  /** Creates a task, lets it finish, and returns its audio. */
  async function finished(prompt: string, duration: number) {
    const { taskId } = await client.createTask({ prompt, duration });
    clock += 1000;
    const task = await client.getTask({ taskId });
    expect(task.status).toBe('succeed');
    return task.audios[0]!;
  }
  return { backend, fetch, client, finished, advance: (ms: number) => (clock += ms) };
}

describe('synthesis', () => {
  it.each([3.0, 5.5, 10.0, 7.3])('renders a WAV file of exactly %s s (RIFF PCM 16-bit mono)', (duration) => {
    const wav = parseWav(synthesizeWav('Rain on a window', duration));
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 22_050, bitsPerSample: 16 });
    expect(wav.dataBytes).toBe(Math.round(duration * 22_050) * 2);
    expect(Math.abs(wav.duration - duration)).toBeLessThan(0.05);
  });

  it('is deterministic per prompt and seed, and different for different prompts or seeds', () => {
    const rain = synthesizeSamples('Heavy rain', 3);
    expect(synthesizeSamples('Heavy rain', 3)).toEqual(rain);
    expect(synthesizeSamples('Heavy rain', 3, { seed: 'task-2' })).not.toEqual(rain);
    const prompts = ['Heavy rain', 'Heavy rain!', 'Fireworks', 'A bell', 'Footsteps', 'A laser', 'A meadow'];
    const all = prompts.map((prompt) => synthesizeSamples(prompt, 3));
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++)
        expect(all[i], `${prompts[i]} vs ${prompts[j]}`).not.toEqual(all[j]);
    }
  });

  it('picks a sound family from the prompt’s words', () => {
    expect(
      [
        'Fireworks during Chinese New Year',
        'A distant explosion',
        'Gunshot in a canyon',
        'Rain on a tin roof',
        'Ocean waves',
        'Wind through pines',
        'Church bell',
        'Wind chimes', // the first family in the list wins: water ("wind")
        'A notification ding',
        'Footsteps on gravel',
        'Knocking at the door',
        'A slow heartbeat',
        'A whoosh',
        'Sci-fi laser',
        'A quiet library',
      ].map(soundKindForPrompt),
    ).toEqual([
      'burst',
      'burst',
      'burst',
      'water',
      'water',
      'water',
      'bell',
      'water',
      'bell',
      'thump',
      'thump',
      'thump',
      'sweep',
      'sweep',
      'tone',
    ]);
  });

  it('is loud enough to hear, never clips, and fades in and out over 10 ms', () => {
    for (const prompt of [
      'Fireworks',
      'Rain',
      'A bell',
      'Footsteps',
      'A whoosh',
      'A laser',
      'Something calm',
    ]) {
      const samples = synthesizeSamples(prompt, 3);
      let peak = 0;
      for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
      expect(peak, prompt).toBeGreaterThan(0.5 * 32767);
      expect(peak, prompt).toBeLessThan(0.9 * 32767);
      expect(samples[0]).toBe(0);
      expect(samples.at(-1)).toBe(0);
      // Within the first 10 ms the level is capped by the ramp.
      const fade = Math.floor(0.01 * MOCK_SAMPLE_RATE);
      for (const i of [1, 10, 100])
        expect(Math.abs(samples[i]!), `${prompt} at ${i}`).toBeLessThanOrEqual((peak * i) / fade + 1);
    }
  });

  it('sounds like the words: rain is continuous low-passed noise, footsteps are separate low thumps', () => {
    const character = (prompt: string) => {
      const samples = synthesizeSamples(prompt, 5);
      const window = Math.floor(MOCK_SAMPLE_RATE / 20);
      const levels: number[] = [];
      for (let i = 0; i + window <= samples.length; i += window) {
        let energy = 0;
        for (let j = i; j < i + window; j++) energy += samples[j]! ** 2;
        levels.push(Math.sqrt(energy / window));
      }
      const loudest = Math.max(...levels);
      let crossings = 0;
      for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 !== samples[i]! < 0) crossings++;
      return {
        quietShare: levels.filter((level) => level < 0.05 * loudest).length / levels.length,
        crossingsPerSecond: crossings / 5,
      };
    };
    const rain = character('Heavy rain on a tin roof');
    expect(rain.quietShare).toBe(0);
    // White noise at 22.05 kHz crosses zero ~11,000 times a second.
    expect(rain.crossingsPerSecond).toBeLessThan(3000);
    const steps = character('Footsteps on a wooden floor');
    expect(steps.quietShare).toBeGreaterThan(0.3);
    expect(steps.crossingsPerSecond).toBeLessThan(200);
    expect(character('A calm morning').quietShare).toBeLessThan(0.05);
  });

  it('encodes a real MP3 (MPEG-2 Layer III, 22.05 kHz) of the requested length', async () => {
    const mp3 = await encodeMp3(synthesizeSamples('A bell', 3), MOCK_SAMPLE_RATE);
    const info = parseMp3(mp3);
    expect(info).toMatchObject({ sampleRate: 22_050, kbps: 64 });
    // The encoder adds its delay and pads the last frame: a little longer, never shorter.
    expect(info.duration).toBeGreaterThanOrEqual(3);
    expect(info.duration).toBeLessThan(3.15);
    expect(mp3.length).toBeGreaterThan(20_000);
  });

  it.each([3, 4, 5.5, 7.3, 10])('mp3Duration(%ss) is the encoded file’s length', async (seconds) => {
    const samples = synthesizeSamples('rain', seconds);
    const info = parseMp3(await encodeMp3(samples, MOCK_SAMPLE_RATE));
    expect(mp3Duration(samples.length)).toBeCloseTo(info.duration, 6);
  });
});

describe.each(transports)('audio files through $name', ({ connect }) => {
  it.each([3.0, 5.5, 10.0])(
    'serves a finished %s s task’s WAV that decodes to its duration',
    async (duration) => {
      const { fetch, finished } = setup(connect);
      const audio = await finished('Fireworks over a harbour', duration);
      expect(audio.wavUrl).toMatch(/^http:\/\/app\.test\/api\/kling\/mock-audio\/\d+\.wav$/);
      const response = await fetch(audio.wavUrl);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/wav');
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const bytes = await bytesOf(response);
      expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
      const wav = parseWav(bytes);
      expect(wav.sampleRate).toBe(22_050);
      expect(Math.abs(wav.duration - duration)).toBeLessThan(0.05);
      expect(Math.abs(wav.duration - audio.wavDuration)).toBeLessThan(0.05);
    },
  );

  it('gives different tasks different sounds, and the same task the same bytes every time', async () => {
    const { fetch, finished } = setup(connect);
    const rain = await finished('Rain', 3);
    const bell = await finished('A bell', 3);
    const rainAgain = await finished('Rain', 3);
    const [a, b, c, a2] = await Promise.all(
      [rain.wavUrl, bell.wavUrl, rainAgain.wavUrl, rain.wavUrl].map(
        async (url) => parseWav(await bytesOf(await fetch(url))).samples,
      ),
    );
    expect(a).not.toEqual(b);
    // Two tasks with one prompt: the same kind of sound, not the same recording.
    expect(a).not.toEqual(c);
    expect(a2).toEqual(a);
  });

  it('answers Range requests with 206 and exactly those bytes, and an unsatisfiable range with 416', async () => {
    const { fetch, finished } = setup(connect);
    const audio = await finished('Footsteps', 3);
    const whole = await bytesOf(await fetch(audio.wavUrl));
    const size = whole.length;

    const first = await fetch(audio.wavUrl, { headers: { Range: 'bytes=0-43' } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-43/${size}`);
    expect(first.headers.get('content-length')).toBe('44');
    expect(await bytesOf(first)).toEqual(whole.slice(0, 44));

    const open = await fetch(audio.wavUrl, { headers: { Range: 'bytes=1000-' } });
    expect([open.status, open.headers.get('content-range')]).toEqual([206, `bytes 1000-${size - 1}/${size}`]);
    expect(await bytesOf(open)).toEqual(whole.slice(1000));

    const suffix = await fetch(audio.wavUrl, { headers: { Range: 'bytes=-100' } });
    expect(await bytesOf(suffix)).toEqual(whole.slice(size - 100));

    const pastEnd = await fetch(audio.wavUrl, { headers: { Range: `bytes=0-${size + 500}` } });
    expect([pastEnd.status, pastEnd.headers.get('content-range')]).toEqual([
      206,
      `bytes 0-${size - 1}/${size}`,
    ]);

    const beyond = await fetch(audio.wavUrl, { headers: { Range: `bytes=${size}-` } });
    expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, `bytes */${size}`]);

    const head = await fetch(audio.wavUrl, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(size)]);
  });

  it('serves a real MP3 at url_mp3', async () => {
    const { fetch, finished } = setup(connect);
    const audio = await finished('A sci-fi laser', 4);
    const response = await fetch(audio.mp3Url);
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'audio/mpeg']);
    const bytes = await bytesOf(response);
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes[0]).toBe(0xff);
    expect(bytes[1]! & 0xe0).toBe(0xe0);
    expect(bytes.length).toBeGreaterThan(25_000);
    const info = parseMp3(bytes);
    // duration_mp3 is the file's own length (whole frames plus the encoder's delay), as the vendor's is.
    expect(info.duration).toBeCloseTo(audio.mp3Duration, 3);
    expect(audio.wavDuration).toBe(4);

    const range = await fetch(audio.mp3Url, { headers: { Range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(await bytesOf(range)).toEqual(bytes.slice(100, 200));
  });

  it('answers 404 for unknown, unfinished and malformed audio paths', async () => {
    const { fetch, client } = setup(connect);
    const { taskId } = await client.createTask({ prompt: 'Rain', duration: 3 });
    for (const path of [`${taskId}.wav`, '123.wav', `${taskId}.ogg`, 'x/y.wav', '']) {
      const response = await fetch(`${BASE}/mock-audio/${path}`);
      expect([path, response.status]).toEqual([path, 404]);
    }
  });

  it('plays the audio scenarios: expired, missing, no-cors', async () => {
    const { fetch, finished, backend } = setup(connect);
    const audio = await finished('Rain', 3);

    backend.setScenario({ audio: 'expired' });
    const expired = await fetch(audio.wavUrl);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/Request has expired/);

    backend.setScenario({ audio: 'missing' });
    expect((await fetch(audio.mp3Url)).status).toBe(404);

    backend.setScenario({ audio: 'no-cors' });
    const noCors = await fetch(audio.wavUrl);
    expect(noCors.status).toBe(200);
    expect(noCors.headers.get('access-control-allow-origin')).toBeNull();
    expect(parseWav(await bytesOf(noCors)).duration).toBeCloseTo(3, 2);

    backend.setScenario({ audio: 'ok' });
    expect((await fetch(audio.wavUrl)).headers.get('access-control-allow-origin')).toBe('*');
  });

  it('serves seeded tasks’ audio at their fixed ids', async () => {
    const { fetch } = setup(connect, { seed: mockTaskSeeds });
    const wav = await fetch(`${BASE}/mock-audio/${MOCK_TASK_IDS.bell}.wav`);
    expect(parseWav(await bytesOf(wav)).duration).toBeCloseTo(3, 2);
    expect((await fetch(`${BASE}/mock-audio/${MOCK_TASK_IDS.pending}.wav`)).status).toBe(404);
    expect((await fetch(`${BASE}/mock-audio/${MOCK_TASK_IDS.failed}.wav`)).status).toBe(404);
  });

  it('puts audio on an absolute audioBaseUrl (another origin) and serves it there', async () => {
    const { fetch, finished } = setup(connect, { audioBaseUrl: 'http://cdn.test/files/' });
    const audio = await finished('A bell', 3);
    expect(audio.wavUrl).toMatch(/^http:\/\/cdn\.test\/files\/\d+\.wav$/);
    expect(audio.mp3Url).toMatch(/^http:\/\/cdn\.test\/files\/\d+\.mp3$/);
    const response = await fetch(audio.wavUrl);
    expect(response.status).toBe(200);
    expect(parseWav(await bytesOf(response)).duration).toBeCloseTo(3, 2);
    // The default location is not served any more.
    const id = audio.wavUrl.split('/').pop();
    const old = await fetch(`${BASE}/mock-audio/${id}`);
    expect(old.headers.get('content-type')).not.toBe('audio/wav');
  });
});
