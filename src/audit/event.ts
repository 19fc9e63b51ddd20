import type { ErrorCode } from '../errors/index.js';

/**
 * One audit event (DESIGN.md "audit"). Never a value, a key or an ORK:
 * tokens, ids, names, counts and versions only.
 */
export interface AuditEvent {
  readonly time: string;
  readonly operation: string;
  readonly outcome: 'ok' | ErrorCode;
  readonly tenant?: string;
  readonly fields?: readonly string[];
  readonly orkId?: string;
  readonly tekVersions?: readonly number[];
  /** Items in the request. */
  readonly count?: number;
  /** Items that failed individually (detokenize/decrypt). */
  readonly itemErrors?: number;
  /** Tokens whose values were revealed. */
  readonly tokens?: readonly string[];
  readonly purpose?: string;
  /** Transport or tool: http, grpc, cli. */
  readonly caller?: string;
  readonly requestId?: string;
  readonly latencyMs?: number;
  /** Lifecycle details (ids, versions); never secrets. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** The stored text of an event: JSON with its keys in this fixed order. */
export function eventText(e: AuditEvent): string {
  return JSON.stringify({
    time: e.time,
    operation: e.operation,
    outcome: e.outcome,
    tenant: e.tenant,
    fields: e.fields,
    orkId: e.orkId,
    tekVersions: e.tekVersions,
    count: e.count,
    itemErrors: e.itemErrors,
    tokens: e.tokens,
    purpose: e.purpose,
    caller: e.caller,
    requestId: e.requestId,
    latencyMs: e.latencyMs,
    detail: e.detail,
  });
}
