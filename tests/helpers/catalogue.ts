import { loadCatalogue } from '../../src/catalogue/load.js';
import { mergeParams } from '../../src/engine/params.js';
import type { Catalogue, Params } from '../../src/engine/types.js';

export const catalogue: Catalogue = loadCatalogue();

/** A poverty line of 50,000 ₸ per person in Astana from 2026-01-01, for tests that need one. */
export const astanaLine: Params = {
  poverty_line_kzt: { astana: [{ from: '2026-01-01', value: 50000, reference: 'test', verified: false }] },
};

export const withParams = (params: Params): Catalogue => ({ ...catalogue, params: mergeParams(catalogue.params, params) });
