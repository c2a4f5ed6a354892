/** Paths generated from the screening machine, with the shipped catalogue (no poverty line yet): see ./suite.ts. */
import { BotHarness } from '../helpers/bot-harness.js';
import { catalogue } from '../helpers/catalogue.js';
import { TODAY } from './model.js';
import { pathSuite } from './suite.js';

// Walks 1000–1014 here, 1015–1029 with a poverty line: 30 in all, 10 in each language.
pathSuite({ catalogue, harness: new BotHarness({ today: () => TODAY }), walks: Array.from({ length: 15 }, (_, i) => 1000 + i) });
