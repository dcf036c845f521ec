// Checks src/ against .dependency-cruiser.cjs (the rooms' one-way order, no circles, the layers).
// Through dependency-cruiser's API: its CLI refuses Node 20, the API runs on it.
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';

const { forbidden, options } = createRequire(import.meta.url)('../.dependency-cruiser.cjs');
const { tsConfig, ...cruiseOptions } = options;
const result = await cruise(
  ['src'],
  { ...cruiseOptions, ruleSet: { forbidden }, validate: true, outputType: 'err-long' },
  {},
  { tsConfig },
);
process.stdout.write(result.output);
process.exitCode = result.exitCode;
