/** Working hours in the settings (HOTLINE_HOURS, REFERRAL_HOURS): read as src/handoff/hours.ts reads them, refused in one line naming the setting. */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { configProblems, TOKEN } from '../helpers/config.js';

describe('working hours in the settings', () => {
  it('default to weekdays 09:00–18:00 and take a week of hours or "always"', () => {
    const config = readConfig({ BOT_TOKEN: TOKEN });
    expect([config.HOTLINE_HOURS, config.REFERRAL_HOURS]).toEqual(['mon-fri 09:00-18:00', 'mon-fri 09:00-18:00']);
    expect(configProblems({ HOTLINE_HOURS: 'mon-fri 09:00-18:00; sat 10:00-14:00', REFERRAL_HOURS: 'always' })).toEqual([]);
  });

  it('refuse what they cannot read, naming the setting', () => {
    expect(configProblems({ HOTLINE_HOURS: 'weekdays 9 to 6' })).toEqual([expect.stringMatching(/^HOTLINE_HOURS: expected working hours like "mon-fri 09:00-18:00; sat 10:00-14:00"/)]);
    expect(configProblems({ REFERRAL_HOURS: 'mon-fri 25:00-26:00' })).toEqual([expect.stringMatching(/^REFERRAL_HOURS: expected working hours like "mon-fri 09:00-18:00" or "always"/)]);
  });
});
