/** The daemon's HTTP app over a service that is never called: for what the app registers and serves itself. */
import { createHttpApp } from '../../src/transport/http/index.js';

export function stubHttpApp() {
  const unused = async () => {
    throw new Error('not called');
  };
  return createHttpApp({
    service: {
      tokenize: unused,
      detokenize: unused,
      encrypt: unused,
      decrypt: unused,
      deleteTokens: unused,
      forgetSubjects: unused,
      ingestKeys: unused,
    },
    readiness: async () => ({ ready: true, checks: {} }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    bindHost: '127.0.0.1',
    maxBodyBytes: 1024,
    clientToken: undefined,
    onInternalError: () => {},
  });
}
