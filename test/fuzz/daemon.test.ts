/**
 * The fixed-budget fuzzing of every HTTP route and gRPC method of a real
 * daemon, and of envelopes read back from its store
 * (test/fuzz/daemon-targets.ts), inside `npm test`; `npm run fuzz` runs the
 * same targets for minutes.
 */
import { after } from 'node:test';
import { DAEMON_TARGETS, stopDaemonHarness } from './daemon-targets.js';
import { fuzzTests } from './target.js';

after(stopDaemonHarness);
fuzzTests('fuzzing a real daemon (near-valid requests)', DAEMON_TARGETS);
