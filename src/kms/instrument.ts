/**
 * A KEK port decorator that reports every KMS call (provider, operation,
 * outcome, seconds) to an observer, so metrics live in one place
 * (observability wires the observer to prom-client) and the adapters stay
 * free of it. One observation per port call: SDK-internal retries are part
 * of that call's latency.
 *
 * The observer sees only labels from closed sets and a duration: never a
 * context, a key reference or an error message.
 */
import { type KekPort, KmsError, type KmsErrorKind, type KmsHealth, type KmsProvider } from './port.js';

export type KmsOperationName = 'wrap' | 'unwrap' | 'health';

/** `error`: an unexpected (non-KmsError) failure, or a health check that reported not ok. */
export type KmsCallOutcome = 'ok' | KmsErrorKind | 'error';

export interface KmsCallObservation {
  readonly provider: KmsProvider;
  readonly operation: KmsOperationName;
  readonly outcome: KmsCallOutcome;
  readonly seconds: number;
}

export type KmsCallObserver = (observation: KmsCallObservation) => void;

export function instrumentKek(port: KekPort, observe: KmsCallObserver): KekPort {
  const report = (operation: KmsOperationName, outcome: KmsCallOutcome, started: number): void => {
    try {
      observe({ provider: port.provider, operation, outcome, seconds: (performance.now() - started) / 1000 });
    } catch {
      // A broken metrics sink must never fail a key operation.
    }
  };
  const timed = async <T>(operation: KmsOperationName, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await call();
      report(operation, 'ok', started);
      return result;
    } catch (err) {
      report(operation, err instanceof KmsError ? err.kind : 'error', started);
      throw err;
    }
  };
  return {
    provider: port.provider,
    kekRef: port.kekRef,
    wrap: (plaintext, context) => timed('wrap', () => port.wrap(plaintext, context)),
    unwrap: (wrapped, context) => timed('unwrap', () => port.unwrap(wrapped, context)),
    health: async (): Promise<KmsHealth> => {
      const started = performance.now();
      let health: KmsHealth;
      try {
        health = await port.health();
      } catch (err) {
        report('health', err instanceof KmsError ? err.kind : 'error', started);
        throw err;
      }
      report('health', health.ok ? 'ok' : 'error', started);
      return health;
    },
    close: () => port.close(),
  };
}
