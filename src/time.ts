/** Dates as the family lives them: Kazakhstan keeps one time zone, Asia/Almaty. */
export const TIME_ZONE = 'Asia/Almaty';

/** Built once: a formatter costs far more to build than to use, and every update asks for today. */
const almatyDate = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's date in Almaty as YYYY-MM-DD. */
export function todayInAlmaty(now: Date = new Date()): string {
  return almatyDate.format(now);
}
