// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { KlingAudioProvider, TextToAudioStudio } from '../src';

describe('the form, the history and the studio on the server', () => {
  it('render without a window: form values, a loading history, nothing resumed', () => {
    expect(typeof window).toBe('undefined');
    const html = renderToString(
      <KlingAudioProvider baseUrl="http://localhost/api/kling">
        <TextToAudioStudio formProps={{ defaultPrompt: 'Rain on a tin roof', defaultDuration: 6.5 }} />
      </KlingAudioProvider>,
    );
    expect(html).toContain('data-state="idle"');
    expect(html).toContain('Rain on a tin roof</textarea>');
    expect(html).toContain('value="6.5"');
    expect(html).toContain('18/200');
    // The server cannot know the platform: Ctrl until the browser says ⌘.
    expect(html).toContain('Press Ctrl+Enter to generate');
    expect(html).toContain('Loading sounds…');
    // Pending tasks live in the browser's storage: nothing is resumed on the server.
    expect(html).toContain('Describe a sound and generate it: it will appear here.');
  });
});
