// @vitest-environment node
/**
 * The demo end to end: `startDemo()` (what `npm start` runs) serves the app on Vite's dev server with the
 * real proxy at /api/kling and the mock backend as its upstream; headless Chromium drives the page. Every
 * request goes over real HTTP: no msw here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../demo/serve.mjs';
import { chromiumArgs, chromiumPath } from '../chromium';

const TASKS = 'api/kling/v1/audio/text-to-audio';

let demo: Demo;
let browser: Browser;
// The demo's records (PGlite) and mock tasks, in a folder of this run: never the repository's own.
const dataDir = mkdtempSync(join(tmpdir(), 'rka-demo-e2e-'));
// Short statuses so the flow takes seconds; long enough that the page shows each pending one.
const start = () =>
  startDemo({
    port: 0,
    quiet: true,
    env: {},
    dataDir,
    timing: { submittedMs: 1000, processingMs: 1500 },
    // The vendor's callbacks as the demo sends them (late, sometimes doubled or lost), the same every run.
    callbacks: { seed: 7 },
  });

beforeAll(async () => {
  [demo, browser] = await Promise.all([
    start(),
    chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs }),
  ]);
  // A first start creates the PGlite database (initdb in WASM): tens of seconds on a busy machine.
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo server', () => {
  it('answers /api/kling with the real proxy: unknown paths and bad creates never reach the upstream', async () => {
    expect(demo.upstream).toBe('mock');

    const other = await fetch(new URL('api/kling/v1/other', demo.url));
    expect(other.status).toBe(404);
    expect(other.headers.get('cache-control')).toBe('no-store');
    expect(await other.json()).toEqual({
      code: 1203,
      message: expect.any(String),
      request_id: expect.any(String),
      data: null,
    });

    const tooLong = await fetch(new URL(TASKS, demo.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a'.repeat(201), duration: 5 }),
    });
    expect(tooLong.status).toBe(400);
    const body = await tooLong.json();
    expect(body).toMatchObject({ code: 1201, data: null });
    expect(body.message).toMatch(/200/);

    // Only the proxy answers in its own envelope: nothing was created upstream.
    const list = await fetch(new URL(`${TASKS}?pageNum=1&pageSize=30`, demo.url));
    expect(list.status).toBe(200);
    expect((await list.json()).data).toEqual([]);
  });
});

describe('the demo page in Chromium', () => {
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(demo.url);
  });

  afterAll(async () => {
    if (!page?.isClosed()) await page?.close();
  });

  /** The status of the current sound on the page each time it changes, until it ends (or 30 s pass). */
  async function statusesUntilDone(current: Locator): Promise<string[]> {
    const seen: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const status = await current.getAttribute('data-status');
      if (status && status !== seen.at(-1)) seen.push(status);
      if (status === 'succeed' || status === 'failed') break;
      await page.waitForTimeout(100);
    }
    return seen;
  }

  it('generates a sound through the proxy, shows its progress, plays it and offers MP3 and WAV', async () => {
    await expect
      .poll(() => page.locator('.demo-upstream').textContent())
      .toContain('in-process mock backend');

    // What the page asks for from here on: task lookups (polls) and event streams.
    const lookups: string[] = [];
    let streams = 0;
    page.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.endsWith('/text-to-audio/events')) streams++;
      else if (request.method() === 'GET' && /\/text-to-audio\/[^/]+$/.test(pathname)) lookups.push(pathname);
    });

    await page.getByLabel('Describe the sound').fill('A small brass bell rung twice');
    await page.getByLabel('Duration (seconds)').fill('3.5');
    await page.getByRole('button', { name: 'Generate sound' }).click();

    const current = page.getByRole('region', { name: 'Current sound' });
    // Progress: a pending status in words, said once by the studio's live region, and the time since the
    // task was created.
    await current
      .locator('[data-part="status"]')
      .filter({ hasText: /Queued|Generating/ })
      .waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: /^(Queued|Generating): A small brass bell rung twice/ })
      .waitFor({ state: 'attached' });
    await current.getByText(/s elapsed/).waitFor();
    const statuses = await statusesUntilDone(current);
    expect(statuses.at(-1)).toBe('succeed');
    expect(statuses.some((status) => status === 'submitted' || status === 'processing')).toBe(true);
    // Pushed, not polled: the vendor's callbacks reached the proxy, and the page heard through its stream.
    expect(streams).toBeGreaterThan(0);
    expect(lookups).toEqual([]);
    await expect.poll(() => current.getByText('A small brass bell rung twice').count()).toBeGreaterThan(0);

    // Playback of the real file, served by the demo server.
    const play = current.getByRole('button', { name: 'Play' });
    await play.click();
    const pause = current.getByRole('button', { name: 'Pause' });
    await expect.poll(() => pause.getAttribute('data-state')).toBe('playing');
    const seek = current.getByRole('slider', { name: 'Seek' });
    await expect.poll(async () => Number(await seek.getAttribute('aria-valuenow'))).toBeGreaterThan(0.3);
    await pause.click();

    // Downloads: one link per format, each an http(s) URL of a real file.
    for (const [format, type, magic] of [
      ['MP3', 'audio/mpeg', undefined],
      ['WAV', 'audio/wav', 'RIFF'],
    ] as const) {
      const link = current.getByRole('link', { name: `Download ${format}` });
      if ((await link.count()) === 0) await current.getByRole('radio', { name: format }).check();
      const href = await link.getAttribute('href');
      expect(href).toMatch(new RegExp(`^https?://.+\\.${format.toLowerCase()}$`));
      const file = await fetch(href!);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe(type);
      const bytes = new Uint8Array(await file.arrayBuffer());
      expect(bytes.length).toBeGreaterThan(1000);
      if (magic) expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe(magic);
    }

    // The history lists it too, as ready.
    const row = page
      .getByRole('region', { name: 'History' })
      .getByRole('listitem')
      .filter({ has: page.getByRole('button', { name: 'A small brass bell rung twice' }) });
    await expect.poll(() => row.textContent()).toContain('Ready');

    // The theme toggle switches the library's palette.
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.locator('html').getAttribute('data-rka-theme')).toBe('dark');

    expect(errors).toEqual([]);
  });

  it("keeps the sound: after the vendor's links die it still plays, seeks and downloads from the kept copy", async () => {
    // The copy is made in the background once the task is seen succeeded.
    const listed = async () => {
      const response = await fetch(new URL(`${TASKS}?pageNum=1&pageSize=30`, demo.url));
      return (await response.json()).data as {
        task_id: string;
        task_result?: { audios?: { url_mp3: string; url_wav: string; kept?: boolean }[] };
      }[];
    };
    await expect
      .poll(async () => (await listed())[0]?.task_result?.audios?.[0]?.kept, { timeout: 30_000 })
      .toBe(true);
    const [task] = await listed();
    const kept = task!.task_result!.audios![0]!;
    const filesPath = `/api/kling/files/${task!.task_id}/`;
    expect(new URL(kept.url_mp3).pathname.startsWith(filesPath)).toBe(true);
    const keptMp3 = new Uint8Array(await (await fetch(kept.url_mp3)).arrayBuffer());

    // The vendor purges it: 31 days on, on the mock's clock, its own link answers 403.
    demo.advanceMockClock!(31 * 86_400_000);
    const vendorLink = new URL(`mock-audio/${task!.task_id}.mp3`, demo.url);
    expect((await fetch(vendorLink)).status).toBe(403);

    const fileAnswers: { status: number; range: string | undefined }[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith(filesPath)) {
        fileAnswers.push({ status: response.status(), range: response.request().headers()['range'] });
      }
    });
    await page.reload();
    await page
      .getByRole('region', { name: 'History' })
      .getByRole('button', { name: 'A small brass bell rung twice' })
      .first()
      .click();
    const current = page.getByRole('region', { name: 'Current sound' });
    const link = current.getByRole('link', { name: 'Download MP3' });
    await link.waitFor();
    // Same origin as the page, and no countdown: the copy does not expire.
    expect(new URL((await link.getAttribute('href'))!, demo.url).pathname.startsWith(filesPath)).toBe(true);
    expect(await current.locator('[data-part="expiry"]').count()).toBe(0);

    await current.getByRole('button', { name: 'Play' }).click();
    const pause = current.getByRole('button', { name: 'Pause' });
    await expect.poll(() => pause.getAttribute('data-state')).toBe('playing');
    await pause.click();
    // Seeking towards the end, then playing from there. A kept clip comes with its peaks, so the player
    // fetched nothing before play: the element streams the kept file (ranges), which the route answers.
    const seek = current.getByRole('slider', { name: 'Seek' });
    await seek.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('PageDown');
    const from = Number(await seek.getAttribute('aria-valuenow'));
    expect(from).toBeGreaterThan(1);
    await current.getByRole('button', { name: 'Play' }).click();
    await expect.poll(async () => Number(await seek.getAttribute('aria-valuenow'))).toBeGreaterThan(from);
    expect(fileAnswers.some(({ status }) => status === 200 || status === 206)).toBe(true);
    const range = await fetch(kept.url_mp3, { headers: { range: 'bytes=100-199' } });
    expect([range.status, range.headers.get('content-range')]).toEqual([
      206,
      `bytes 100-199/${keptMp3.length}`,
    ]);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(keptMp3.slice(100, 200));
    expect(fileAnswers.every(({ status }) => status === 200 || status === 206 || status === 304)).toBe(true);

    // The download is the blob of the kept bytes, under the prompt's name.
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('a-small-brass-bell-rung-twice.mp3');
    const { readFile } = await import('node:fs/promises');
    expect(new Uint8Array(await readFile((await download.path())!))).toEqual(keptMp3);
    expect(await current.getByText(/expired/i).count()).toBe(0);
    expect(errors).toEqual([]);
    // Back to the real time for the tests after this one.
    demo.advanceMockClock!(-31 * 86_400_000);
  });

  const history = (on: Page) => on.getByRole('region', { name: 'History' });
  const historyButton = (on: Page, prompt: string) => history(on).getByRole('button', { name: prompt });

  it('two signed-in users see only their own sounds', async () => {
    await expect.poll(() => historyButton(page, 'A small brass bell rung twice').count()).toBe(1);
    await page.getByRole('radio', { name: 'Grace' }).check();
    await history(page).getByText('No sounds yet. Generated sounds appear here.').waitFor();
    expect(await historyButton(page, 'A small brass bell rung twice').count()).toBe(0);

    await page.getByLabel('Describe the sound').fill('Distant thunder over hills');
    await page.getByRole('button', { name: 'Generate sound' }).click();
    await historyButton(page, 'Distant thunder over hills').waitFor();

    await page.getByRole('radio', { name: 'Ada' }).check();
    await historyButton(page, 'A small brass bell rung twice').waitFor();
    expect(await historyButton(page, 'Distant thunder over hills').count()).toBe(0);
    // Over the wire too: a request as Grace lists Grace's sound only.
    const asGrace = await fetch(new URL(`${TASKS}?pageNum=1&pageSize=30`, demo.url), {
      headers: { cookie: 'rka-demo-user=grace' },
    });
    const prompts = (await asGrace.json()).data.map(
      (task: { task_info: { prompt: string } }) => task.task_info.prompt,
    );
    expect(prompts).toEqual(['Distant thunder over hills']);
    expect(errors).toEqual([]);
  });

  it('history and prompts survive a restart of the demo server', { timeout: 180_000 }, async () => {
    // The old page would keep polling the old server: it goes first, as a closed tab would.
    await page.close();
    await demo.close();
    demo = await start();
    // A new browser context: no cookie, no local storage; everything shown comes from the server.
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await fresh.goto(demo.url);
      const bell = history(fresh)
        .getByRole('listitem')
        .filter({ has: fresh.getByRole('button', { name: 'A small brass bell rung twice' }) });
      await expect.poll(() => bell.textContent(), { timeout: 20_000 }).toContain('Ready');
      expect(await historyButton(fresh, 'Distant thunder over hills').count()).toBe(0);
      await fresh.getByRole('radio', { name: 'Grace' }).check();
      await historyButton(fresh, 'Distant thunder over hills').waitFor();
      expect(await historyButton(fresh, 'A small brass bell rung twice').count()).toBe(0);
    } finally {
      await fresh.close();
    }
  });
});
