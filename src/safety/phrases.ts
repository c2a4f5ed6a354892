/**
 * Phrase lists for checking the cue list: one phrase per line; blank lines and
 * lines starting with # are skipped. A corpus file (tests/safety/corpus.tsv,
 * `expected<TAB>kind<TAB>lang<TAB>phrase` under a header) gives its last column.
 */
export function phrasesOf(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  const isCorpus = /^expected\tkind\tlang\tphrase$/.test(lines[0] ?? '');
  return isCorpus ? lines.slice(1).map((l) => l.split('\t').at(-1)!) : lines;
}
