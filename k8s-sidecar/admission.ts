/**
 * admission.k8s.io/v1 AdmissionReview in, AdmissionReview out. Pure: the
 * server hands it the parsed body and sends back what it returns.
 */
import type { MutationConfig } from './config.js';
import { mutatePod } from './mutate.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON Patch. */
  readonly patch?: string;
  readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
  readonly warnings?: readonly string[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export type ReviewOutcome =
  | {
      readonly ok: true;
      readonly review: AdmissionReviewResponse;
      /** One line for the log: what was decided about which pod. Never a value of the pod's env. */
      readonly summary: string;
    }
  /** The body is not an AdmissionReview request: answered with HTTP 400. */
  | { readonly ok: false; readonly error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function answer(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

export function review(body: unknown, config: MutationConfig): ReviewOutcome {
  if (!isObject(body) || body.kind !== 'AdmissionReview')
    return { ok: false, error: 'body is not an AdmissionReview' };
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return { ok: false, error: `only ${ADMISSION_API_VERSION} AdmissionReview is served` };
  }
  const request = body.request;
  if (!isObject(request) || typeof request.uid !== 'string' || request.uid === '') {
    return { ok: false, error: 'AdmissionReview has no request.uid' };
  }
  const uid = request.uid;
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const object = isObject(request.object) ? request.object : undefined;
  const metadata = object !== undefined && isObject(object.metadata) ? object.metadata : {};
  const name =
    typeof metadata.name === 'string' && metadata.name !== ''
      ? metadata.name
      : typeof metadata.generateName === 'string'
        ? `${metadata.generateName}*`
        : '(unnamed)';
  const who = `pod ${namespace}/${name} (uid ${uid})`;

  const kind = isObject(request.kind) ? request.kind : {};
  if (kind.group !== '' || kind.kind !== 'Pod' || request.operation !== 'CREATE') {
    return {
      ok: true,
      review: answer({ uid, allowed: true }),
      summary: `allowed ${String(kind.kind)} ${String(request.operation)} unchanged: only Pod CREATE is mutated`,
    };
  }
  if (request.subResource !== undefined && request.subResource !== '') {
    return { ok: true, review: answer({ uid, allowed: true }), summary: `allowed ${who}: subresource` };
  }

  const result = mutatePod(object, config, namespace);
  switch (result.kind) {
    case 'skip':
      return {
        ok: true,
        review: answer({ uid, allowed: true }),
        summary: `allowed ${who} unchanged: ${result.reason}`,
      };
    case 'deny':
      return {
        ok: true,
        review: answer({
          uid,
          allowed: false,
          status: { code: 400, reason: 'BadRequest', message: result.message },
        }),
        summary: `denied ${who}: ${result.message}`,
      };
    case 'patch': {
      const response: AdmissionResponse = {
        uid,
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(result.patch)).toString('base64'),
        ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
      };
      return { ok: true, review: answer(response), summary: `injected ${who}` };
    }
  }
}
