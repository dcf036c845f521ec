import type { Preview } from '@storybook/react-vite';
import { mswLoader } from 'msw-storybook-addon/csf3';
import '../src/components/styles.css';
import { withKlingProviders, withTheme } from '../stories/support/KlingStoryProviders';

const preview: Preview = {
  // Starts msw's worker once and applies each story's `parameters.msw` (a fresh mock backend per story).
  loaders: [mswLoader()],
  // Outermost last: the theme wrapper paints the page, the providers sit inside it.
  decorators: [withKlingProviders, withTheme],
  tags: ['autodocs'],
  globalTypes: {
    theme: {
      description: 'Light or dark tokens (data-rka-theme on the story wrapper)',
      toolbar: {
        title: 'Theme',
        icon: 'mirror',
        items: [
          { value: 'light', title: 'Light', icon: 'sun' },
          { value: 'dark', title: 'Dark', icon: 'moon' },
        ],
        dynamicTitle: true,
      },
    },
  },
  initialGlobals: { theme: 'light' },
  parameters: {
    layout: 'fullscreen',
    // Any axe violation fails the story's test, in the UI and in `npm test`.
    a11y: { test: 'error' },
    controls: { matchers: { color: /(background|color)$/i, date: /Date$/i } },
  },
};

export default preview;
