/**
 * Dates as people write them, for family texts: "02.12.2026" (ru), "2026 жылғы 2 желтоқсан" (kk),
 * "2 December 2026" (en). Written out by hand rather than with Intl: ICU gives the Kazakh form
 * as "2026 ж. 2 желтоқсан", and the result must not depend on the ICU data a Node build carries.
 */
import type { Lang } from '../engine/types.js';

const KK_MONTHS = ['қаңтар', 'ақпан', 'наурыз', 'сәуір', 'мамыр', 'маусым', 'шілде', 'тамыз', 'қыркүйек', 'қазан', 'қараша', 'желтоқсан'];
const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * An ISO calendar date ("2026-12-02") in the reader's language. The Kazakh form is the nominative
 * ("2026 жылғы 2 желтоқсан"): a text that needs "…желтоқсандағы" must be worded around it.
 * Throws a RangeError for anything that is not a real YYYY-MM-DD date.
 */
export function formatDate(iso: string, lang: Lang): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const [year, month, day] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (!m || probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new RangeError(`not a date (YYYY-MM-DD): ${JSON.stringify(iso)}`);
  }
  switch (lang) {
    case 'kk':
      return `${year} жылғы ${day} ${KK_MONTHS[month - 1]}`;
    case 'ru':
      return `${m[3]}.${m[2]}.${m[1]}`;
    case 'en':
      return `${day} ${EN_MONTHS[month - 1]} ${year}`;
  }
}
