import { Model, eventsOf, maximal, stateName } from './model.js';
import { catalogue, astanaLine, withParams } from '../helpers/catalogue.js';
for (const cat of [catalogue, withParams(astanaLine)]) {
  const m = new Model(cat);
  let t0 = Date.now();
  const paths = m.structuralPaths();
  console.log('structural', paths.length, Date.now() - t0, 'ms');
  const names = new Set(paths.map((p) => stateName(p.state)));
  console.log([...names]);
  const asked = new Set(paths.filter((p) => p.state.context.current).map((p) => p.state.context.current));
  console.log('asked', asked.size, cat.facts.filter((f) => !asked.has(f.id)).map((f) => f.id));
  const max = maximal(paths.map(eventsOf));
  console.log('maximal', max.length, 'steps', max.reduce((a, p) => a + p.length, 0), 'longest', Math.max(...max.map((p) => p.length)));
  t0 = Date.now();
  let total = 0; const res: string[] = [];
  for (const r of [...cat.grounds, ...cat.benefits]) {
    const rp = m.resultPaths(r.id);
    res.push(`${r.id}: ${[...rp.keys()].join(',')}`);
    for (const p of rp.values()) total += p.steps.length;
  }
  console.log('results', Date.now() - t0, 'ms', total, res);
}
