/** The shape of a judge: one kind of expectation, judged in a case's context. */
import type { Expectation } from '../../catalogue/types.ts';
import type { CaseContext } from '../case-context.ts';
import type { Verdict } from '../outcomes.ts';

export type ExpectationOf<K extends Expectation['kind']> = Extract<Expectation, { kind: K }>;
export type Judge<K extends Expectation['kind']> = (exp: ExpectationOf<K>, ctx: CaseContext) => Promise<Verdict>;
export type JudgeTable = { readonly [K in Expectation['kind']]: Judge<K> };
