import type { Preview } from '@storybook/react-vite';
import { mswLoader } from 'msw-storybook-addon/csf3';
import '../src/components/styles.css';
import { withKlingProviders, withTheme } from '../stories/support/KlingStoryProviders';

/** The axe rule sets every story must pass: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and best practices. */
const A11Y_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] as const;

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
    // axe runs after each story's play function (the addon's afterEach), so it checks the state the
    // interactions leave, with the WCAG 2.2 A/AA rules (`wcag22aa` brings `target-size`, off by default)
    // plus axe's best practices. Any violation fails the story's test, in the UI and in `npm test`.
    a11y: {
      test: 'error',
      options: { runOnly: { type: 'tag', values: [...A11Y_TAGS] } },
    },
    controls: { matchers: { color: /(background|color)$/i, date: /Date$/i } },
  },
};

export default preview;
