/**
 * Command line for content owners and reviewers:
 *   screen <facts.yaml|json> [--params f] [--date YYYY-MM-DD] [--lang kk|ru|en] [--format json|text [--details]]
 *   cases <file|dir> [--params f]
 *   cues <file>      one phrase per line → danger<TAB>phrase<TAB>kind or -<TAB>phrase
 *   route <directory file|dir> <requests.yaml>   SPEC §9: request<TAB>worker | supervisor:<id> | none
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CatalogueError, loadCatalogue, loadParamsFile, readYaml } from '../catalogue/load.js';
import { caseFiles, runCaseFile } from '../cases/cases.js';
import { isoDate } from '../catalogue/schema.js';
import { evaluate } from '../engine/evaluate.js';
import { FactsError, readFacts } from '../engine/facts.js';
import { createTranslator, isLang } from '../i18n/i18n.js';
import { DangerCues } from '../safety/cues.js';
import { phrasesOf } from '../safety/phrases.js';
import { renderFirstView, renderResult } from '../render/result.js';
import { DirectoryError, loadDirectory, regionIds } from '../referral/directory.js';
import { RequestsError, formatRoutes, parseRequests, routeAll } from '../referral/routing.js';
import { todayInAlmaty } from '../time.js';

const USAGE = `usage:
  npm run -s cli -- screen <facts.yaml|json> [--params file] [--date YYYY-MM-DD] [--lang kk|ru|en] [--format json|text [--details]]
  npm run -s cli -- cases <file|dir> [--params file]
  npm run -s cli -- cues <phrases.txt|corpus.tsv>
  npm run -s cli -- route <directory file|dir> <requests.yaml>`;

class UsageError extends Error {}

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      params: { type: 'string' },
      date: { type: 'string' },
      lang: { type: 'string', default: 'ru' },
      format: { type: 'string', default: 'json' },
      details: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, target] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (!target) throw new UsageError(`${command}: name a file${command === 'cases' ? ' or directory' : ''}`);
  if (command === 'cues') {
    // The very matcher the bot uses, on the very file it loads.
    const cues = DangerCues.load();
    let danger = 0;
    for (const phrase of phrasesOf(readFileSync(target, 'utf8'))) {
      const match = cues.match(phrase);
      if (match) danger++;
      console.log(match ? `danger\t${phrase}\t${match.kind}` : `-\t${phrase}`);
    }
    const all = phrasesOf(readFileSync(target, 'utf8')).length;
    console.log(`${danger} danger, ${all - danger} not`);
    return 0;
  }
  if (command === 'route') {
    const requestsFile = positionals[2];
    if (!requestsFile) throw new UsageError('route: name the directory and the requests file');
    try {
      const regions = regionIds();
      const directory = loadDirectory(target, { regions });
      const requests = parseRequests(readYaml(requestsFile), requestsFile, regions);
      console.log(formatRoutes(routeAll(directory, requests)));
      return 0;
    } catch (e) {
      // A malformed file is the content owner's to fix: every problem, one per line.
      if (!(e instanceof DirectoryError || e instanceof RequestsError || e instanceof CatalogueError)) throw e;
      for (const problem of e instanceof CatalogueError ? [e.message] : e.problems) console.error(`error: ${problem}`);
      return 1;
    }
  }
  const params = values.params ? loadParamsFile(values.params) : undefined;
  const catalogue = loadCatalogue({ params });

  if (command === 'screen') {
    const date = values.date ?? todayInAlmaty();
    if (!isoDate.safeParse(date).success) throw new UsageError(`--date: expected YYYY-MM-DD, got ${date}`);
    if (!isLang(values.lang)) throw new UsageError(`--lang: expected kk, ru or en, got ${values.lang}`);
    if (values.format !== 'json' && values.format !== 'text') throw new UsageError(`--format: expected json or text, got ${values.format}`);
    const facts = readFacts(readYaml(target), catalogue);
    const result = evaluate(facts, catalogue, date);
    if (values.format === 'json') console.log(JSON.stringify(result, null, 2));
    else {
      // What the family sees first; --details adds why, the documents and where to go (the buttons under it).
      const t = createTranslator().bind(values.lang);
      const ticked = facts.topics;
      const notChecked = Array.isArray(ticked) ? catalogue.topics.map((x) => x.id).filter((id) => id !== 'not_sure' && !ticked.includes(id)) : [];
      console.log(values.details ? renderResult(t, catalogue, result, { notChecked }).join('\n\n') : renderFirstView(t, catalogue, result, { notChecked }));
    }
    return 0;
  }
  if (command === 'cases') {
    let passed = 0;
    let failed = 0;
    for (const file of caseFiles(target)) {
      for (const outcome of runCaseFile(file, catalogue, params)) {
        if (!outcome.problems.length) passed++;
        else {
          failed++;
          console.log(`FAIL ${outcome.file} › ${outcome.name}: ${outcome.problems.join('; ')}`);
        }
      }
    }
    console.log(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
  }
  throw new UsageError(`unknown command ${command}`);
}


try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError || e instanceof CatalogueError || e instanceof FactsError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`error: ${(e as Error).message}`);
    if (e instanceof UsageError) console.error(USAGE);
    process.exitCode = 2;
  } else throw e;
}
