/**
 * Text as the danger matcher reads it (SPEC §7). People in trouble write in
 * Kazakh and Russian, on phones that lack Kazakh letters, in Latin letters, with
 * typos and repeated letters; the matcher must hear all of them the same way.
 * Everything, the cue list included, goes through `cueWords`, so a cue written
 * once in plain Cyrillic also matches its Latin and letter-folded spellings.
 */

/** Telegram texts are at most 4096 characters; anything longer is cut before work is done on it. */
export const MAX_TEXT = 4096;

/** Latin letters that look like Cyrillic ones, used inside words that also hold Cyrillic (seed 001 types Latin ə for ә). */
const LOOK_ALIKES: Record<string, string> = {
  a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', k: 'к', m: 'м', t: 'т', h: 'н', b: 'в', i: 'і', ə: 'ә', ö: 'ө', ü: 'ү', u: 'ұ', n: 'п',
};

/**
 * Whole words typed in Latin, in the common Russian and Kazakh schemes
 * ("byut", "umeret", "olgim", "qorqamyn", Kazakh 2021 letters). Longer
 * spellings first. Ambiguities (j: ж in Kazakh, й in some Russian schemes) are
 * settled towards Kazakh (j is ж: "jalgyz", "qujat") and Russian c as ц ("ulica");
 * the Kazakh 2018 acute letters (ó, ú, ǵ, ń) are read too.
 */
const LATIN: [string, string][] = [
  ['shch', 'щ'], ['sch', 'щ'], ['zh', 'ж'], ['kh', 'х'], ['ch', 'ч'], ['sh', 'ш'], ['ts', 'ц'],
  ['ya', 'я'], ['yu', 'ю'], ['yo', 'е'], ['ye', 'е'],
  ['a', 'а'], ['ä', 'а'], ['á', 'а'], ['b', 'б'], ['c', 'ц'], ['ç', 'ч'], ['d', 'д'], ['e', 'е'], ['é', 'е'], ['ə', 'а'], ['f', 'ф'],
  ['g', 'г'], ['ğ', 'г'], ['ǵ', 'г'], ['h', 'х'], ['i', 'и'], ['í', 'и'], ['ı', 'ы'], ['j', 'ж'], ['k', 'к'], ['l', 'л'], ['m', 'м'],
  ['n', 'н'], ['ñ', 'н'], ['ń', 'н'], ['o', 'о'], ['ö', 'о'], ['ó', 'о'], ['p', 'п'], ['q', 'к'], ['r', 'р'], ['s', 'с'], ['ş', 'ш'],
  ['t', 'т'], ['u', 'у'], ['ū', 'у'], ['ü', 'у'], ['ú', 'у'], ['v', 'в'], ['w', 'в'], ['x', 'х'], ['y', 'ы'], ['ý', 'ы'], ['z', 'з'],
];
const LATIN_MAX = 4;
const LATIN_MAP = new Map(LATIN);

/**
 * Letters folded together so that spellings meet: Kazakh letters to the
 * Russian ones typed without a Kazakh keyboard, ы/й/і to и, э to е, soft and
 * hard signs dropped. Coarse on purpose: a false alarm costs one screen.
 */
const FOLD: Record<string, string> = {
  ә: 'а', ғ: 'г', қ: 'к', ң: 'н', ө: 'о', ұ: 'у', ү: 'у', һ: 'х', і: 'и', ы: 'и', й: 'и', э: 'е', ё: 'е', ь: '', ъ: '',
};

const CYRILLIC = /[\u0400-\u04ff]/;
const LATIN_LETTER = /[a-zäáçéğǵíıñńöóşūüúýə]/;

function transliterate(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; ) {
    let step = 1;
    let piece = word[i]!;
    for (let len = Math.min(LATIN_MAX, word.length - i); len > 0; len--) {
      const mapped = LATIN_MAP.get(word.slice(i, i + len));
      if (mapped !== undefined) {
        piece = mapped;
        step = len;
        break;
      }
    }
    out += piece;
    i += step;
  }
  return out;
}

function toCyrillic(word: string): string {
  if (CYRILLIC.test(word)) return word.replace(/[a-zəöü]/g, (ch) => LOOK_ALIKES[ch] ?? ch);
  return LATIN_LETTER.test(word) ? transliterate(word) : word;
}

function fold(word: string): string {
  let out = '';
  for (const ch of word) {
    const folded = FOLD[ch] ?? ch;
    if (folded && folded !== out.at(-1)) out += folded; // "помогиииите", "ссора": repeated letters count once
  }
  return out;
}

/** The words of a text as the matcher compares them. */
export function cueWords(text: string): string[] {
  const plain = text
    .slice(0, MAX_TEXT)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['’`ʼ]/g, ''); // "o'lgim", "ub'yu": apostrophes are part of the word
  return (plain.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => fold(toCyrillic(w))).filter((w) => w.length > 0);
}

/**
 * Plain text for reading a typed answer (yes / no / "don't know", an option's
 * label): lower case, ё→е, look-alike letters inside Cyrillic words mapped,
 * punctuation to single spaces. No transliteration: "yes" stays "yes".
 */
export function plainText(text: string): string {
  return text
    .slice(0, MAX_TEXT)
    .toLowerCase()
    .normalize('NFC')
    .replace(/ё/g, 'е')
    .replace(/[\p{L}]+/gu, (word) => (CYRILLIC.test(word) ? word.replace(/[a-zəöü]/g, (ch) => LOOK_ALIKES[ch] ?? ch) : word))
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
