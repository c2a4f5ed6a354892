/** Paths generated from the screening machine, with a catalogue that has a poverty line (Astana, tests/helpers/catalogue.ts): see ./suite.ts. */
import { createDeps } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { BotHarness } from '../helpers/bot-harness.js';
import { astanaLine, withParams } from '../helpers/catalogue.js';
import { TODAY } from './model.js';
import { paramsFile } from './plan.js';
import { pathSuite } from './suite.js';

const deps = createDeps({ prefix: 'test:', dialogTtlDays: 30, log: createLogger('silent'), logSalt: 'test-salt', today: () => TODAY, paramsFile: paramsFile(astanaLine) });

pathSuite({ catalogue: withParams(astanaLine), harness: new BotHarness({ deps }), walks: Array.from({ length: 15 }, (_, i) => 1015 + i) });
