/**
 * How a reveal (detokenize, decrypt) shows values: as they are, or masked by
 * the field's policy (API.md "Masked reveal"). A call is masked when it
 * asks (`mask: true`) or when its ORK's scope says `--reveal masked`; a
 * masked-only ORK cannot ask for more. Masking happens here, before a
 * value leaves the service; the audit event says the reveal was masked.
 */
import { invalid } from '../errors/index.js';
import type { OrkIdentity } from '../keyring/index.js';
import { maskValue } from '../policy/index.js';
import type { MaskRule } from '../store/index.js';
import { type Scope, storeFailure } from './scope.js';

/** `mask`: absent, null and false are the same (proto3); anything but a boolean is refused. */
export function maskRequested(body: Record<string, unknown>): boolean {
  const m = body.mask;
  if (m === undefined || m === null) return false;
  if (typeof m !== 'boolean') throw invalid('mask must be true or false');
  return m;
}

export interface Revealed {
  readonly value: string;
  readonly masked?: true;
}

/** One call's reveal: `show()` gives what the caller may see of a value of `field`. */
export class Reveal {
  private readonly rules = new Map<string, MaskRule>();

  private constructor(
    private readonly scope: Scope,
    private readonly tenant: string,
    readonly masked: boolean,
  ) {}

  /** After authentication: the ORK's scope may force masking. Records a masked reveal in the audit event. */
  static of(scope: Scope, id: OrkIdentity, asked: boolean): Reveal {
    const masked = asked || id.scope.reveal === 'masked';
    if (masked) scope.audit.detail = { ...scope.audit.detail, masked: true };
    return new Reveal(scope, id.tenant, masked);
  }

  /** The field's mask rule, read once per call and field (`redact` for a field without a policy). */
  async prepare(field: string): Promise<void> {
    if (!this.masked || this.rules.has(field)) return;
    try {
      this.rules.set(field, (await this.scope.deps.policies.policyFor(this.tenant, field)).mask);
    } catch (err) {
      throw storeFailure(err);
    }
  }

  /** Call `prepare(field)` first when masked. */
  show(field: string, value: string): Revealed {
    if (!this.masked) return { value };
    return { value: maskValue(this.rules.get(field) ?? 'redact', value), masked: true };
  }
}
