import type { StorybookConfig } from '@storybook/react-vite';

const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../stories/**/*.stories.@(ts|tsx|mdx)'],
  addons: [
    '@storybook/addon-docs',
    '@storybook/addon-a11y',
    '@storybook/addon-vitest',
    'msw-storybook-addon',
  ],
  // Serves public/mockServiceWorker.js, which msw's browser worker registers.
  staticDirs: ['../public'],
  core: { disableTelemetry: true },
  viteFinal(config) {
    // The library build's declaration plugin has no business in Storybook: it would write .d.ts files
    // into storybook-static and slow every start.
    config.plugins = (config.plugins ?? [])
      .flat()
      .filter(
        (plugin) => !(plugin && 'name' in plugin && /^(unplugin-dts|vite:dts|rka-styles)$/.test(plugin.name)),
      );
    return config;
  },
};

export default config;
