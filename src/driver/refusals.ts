/**
 * Every reason the driver refuses a request or an operation: the driver contract's refusal codes
 * (the contract, conformance/contract.ts, holds each one's meaning and HTTP status, once). `DriverRefusal`
 * carries the code and the exact user-facing text (nova's text where nova has one).
 */
import { REFUSAL_CODES } from '../../conformance/contract.ts';

/** A host that fails a valid request surfaces as libvirt's own error, never as a refusal. */
export type RefusalCode = Exclude<keyof typeof REFUSAL_CODES, 'HOST_FAULT'>;

export const REFUSALS: Readonly<Record<RefusalCode, { readonly http: number; readonly meaning: string }>> = REFUSAL_CODES;

export class DriverRefusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'DriverRefusal';
  }
  get http(): number {
    return REFUSALS[this.code].http;
  }
}

export const refuse = (code: RefusalCode, message: string): never => {
  throw new DriverRefusal(code, message);
};
