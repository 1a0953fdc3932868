/** libvirt typed parameters (virTypedParameter), as passed by nodesevinfo and launch-security calls. */

export const TypedParamType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;
export type TypedParamType = (typeof TypedParamType)[keyof typeof TypedParamType];

export type TypedParam =
  | { readonly field: string; readonly type: 1 | 2 | 5; readonly value: number }
  | { readonly field: string; readonly type: 3 | 4; readonly value: bigint }
  | { readonly field: string; readonly type: 6; readonly value: boolean }
  | { readonly field: string; readonly type: 7; readonly value: string };

/** VIR_TYPED_PARAM_STRING_OKAY: the client accepts string parameters. */
export const VIR_TYPED_PARAM_STRING_OKAY = 1 << 2;

export const param = {
  int: (field: string, value: number): TypedParam => ({ field, type: TypedParamType.INT, value }),
  uint: (field: string, value: number): TypedParam => ({ field, type: TypedParamType.UINT, value }),
  ullong: (field: string, value: bigint): TypedParam => ({ field, type: TypedParamType.ULLONG, value }),
  string: (field: string, value: string): TypedParam => ({ field, type: TypedParamType.STRING, value }),
};

export function paramsToRecord(params: readonly TypedParam[]): Record<string, string | number | bigint | boolean> {
  return Object.fromEntries(params.map((p) => [p.field, p.value]));
}
