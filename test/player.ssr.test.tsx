// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { AudioResultPlayer, KlingAudioProvider, type AudioTask } from '../src';

const task: AudioTask = {
  taskId: 'task-1',
  status: 'succeed',
  audios: [
    {
      id: 'a1',
      mp3Url: 'https://cdn.example.com/a1.mp3',
      wavUrl: 'https://cdn.example.com/a1.wav',
      mp3Duration: 5,
      wavDuration: 5.02,
    },
  ],
  createdAt: Date.now() - 2 * 86_400_000,
  updatedAt: Date.now() - 2 * 86_400_000,
  request: { prompt: 'Rain on a tin roof', duration: 5 },
};

describe('AudioResultPlayer on the server', () => {
  it('renders without a window: idle, duration from the metadata, links in place', () => {
    expect(typeof window).toBe('undefined');
    const html = renderToString(
      <KlingAudioProvider baseUrl="http://localhost/api/kling" storage={null}>
        <AudioResultPlayer task={task} />
        <AudioResultPlayer taskId="pending-1" prompt="Thunder" />
      </KlingAudioProvider>,
    );
    expect(html).toContain('data-state="idle"');
    expect(html).toContain('Rain on a tin roof');
    expect(html).toContain('aria-valuetext="0 of 5 seconds"');
    expect(html).toContain('href="https://cdn.example.com/a1.mp3"');
    expect(html).toContain('download="rain-on-a-tin-roof.mp3"');
    expect(html).toContain('Link expires in 28 days');
    expect(html).toContain('Loading…');
    expect(html).not.toContain('<audio');
  });
});
