export { evaluate, isImplied, nextQuestions } from './evaluate.js';
export { nextScreen, screensOf } from './together.js';
export { readFacts, FactsError, normaliseValue, describeExpected } from './facts.js';
export { mergeParams, valueInForce } from './params.js';
export * from './types.js';
