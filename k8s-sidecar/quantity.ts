/**
 * Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity):
 *
 *   <quantity> ::= <signedNumber><suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | m | "" | k | M | G | T | P | E | (e|E)<signedNumber>
 *
 * Parsed to a plain number so requests can be compared with limits. Float
 * precision is plenty for that comparison and for sizing the V8 heap.
 */

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

const MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

export interface Quantity {
  /** The text as written, passed to Kubernetes unchanged. */
  readonly text: string;
  /** Its value in base units (cores, bytes). */
  readonly value: number;
  /** The suffix as written ('' when none, 'e' for an exponent). */
  readonly suffix: string;
}

/** The quantity, or undefined when `text` is not Kubernetes quantity syntax. */
export function parseQuantity(text: string): Quantity | undefined {
  const m = QUANTITY.exec(text);
  if (m === null) return undefined;
  const [, sign, digits, suffix, exponent] = m;
  let value = Number(digits);
  if (suffix !== undefined) value *= MULTIPLIERS[suffix]!;
  if (exponent !== undefined) value *= 10 ** Number(exponent);
  if (sign === '-') value = -value;
  if (!Number.isFinite(value)) return undefined;
  return { text, value, suffix: suffix ?? (exponent !== undefined ? 'e' : '') };
}
