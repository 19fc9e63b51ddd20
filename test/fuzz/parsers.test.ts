/**
 * The fixed-budget fuzzing of every parser and decoder (test/fuzz/parser-targets.ts)
 * inside `npm test`; `npm run fuzz` runs the same targets for minutes.
 */
import { PARSER_TARGETS } from './parser-targets.js';
import { fuzzTests } from './target.js';

fuzzTests('fuzzing the parsers (near-valid inputs)', PARSER_TARGETS);
