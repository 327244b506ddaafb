/** Shared helpers for the expression tests: value constructors, a sample item, placeholder pools. */
import type { AttributeValue, Item } from "@partita/core"

export const S = (s: string): AttributeValue => ({ S: s })
export const N = (n: string): AttributeValue => ({ N: n })
export const B = (...bytes: number[]): AttributeValue => ({ B: new Uint8Array(bytes) })
export const BOOL = (b: boolean): AttributeValue => ({ BOOL: b })
export const NULL: AttributeValue = { NULL: true }
export const L = (...xs: AttributeValue[]): AttributeValue => ({ L: xs })
export const M = (o: Record<string, AttributeValue>): AttributeValue => ({ M: o })
export const SS = (...xs: string[]): AttributeValue => ({ SS: xs })
export const NS = (...xs: string[]): AttributeValue => ({ NS: xs })
export const BS = (...xs: number[][]): AttributeValue => ({ BS: xs.map((x) => new Uint8Array(x)) })

/** The item most condition and projection cases run against. */
export const sample: Item = {
  id: S("u1"),
  n: N("10"),
  neg: N("-2.5"),
  f: N("0.1"),
  big: N("12345678901234567890123456789012345678"),
  s: S("hello world"),
  e: S(""),
  b: B(0x01, 0x80, 0xff),
  t: BOOL(true),
  fa: BOOL(false),
  nul: NULL,
  l: L(N("1"), S("two"), M({ x: N("3") })),
  m: M({ a: S("x"), nested: M({ deep: N("42") }), arr: L(S("p"), S("q")) }),
  ss: SS("red", "green"),
  ns: NS("1", "2.5"),
  bs: BS([1], [2, 3]),
  astral: S("\u{10000}"),
  bmp: S("\uFFFD"),
  "dotted.name": S("literal"),
  é: S("accent"),
}

/** Values referenced by `:name` in table cases; a case receives exactly the ones it mentions. */
export const valuePool: Record<string, AttributeValue> = {
  ":ten": N("10"),
  ":ten0": N("10.00"),
  ":e1": N("1e1"),
  ":nine": N("9"),
  ":eleven": N("11"),
  ":zero": N("0"),
  ":m3": N("-3"),
  ":m25": N("-2.5"),
  ":p1": N("0.1"),
  ":p10": N("0.10"),
  ":one": N("1"),
  ":two": N("2"),
  ":hund": N("100"),
  ":hello": S("hello world"),
  ":hel": S("hello"),
  ":wor": S("wor"),
  ":xyz": S("xyz"),
  ":a": S("a"),
  ":b": S("b"),
  ":x": S("x"),
  ":u1": S("u1"),
  ":empty": S(""),
  ":red": S("red"),
  ":blue": S("blue"),
  ":bmp": S("\uFFFD"),
  ":astral": S("\u{10000}"),
  ":b01": B(0x01),
  ":b0180": B(0x01, 0x80),
  ":b7f": B(0x7f),
  ":bfull": B(0x01, 0x80, 0xff),
  ":b80": B(0x80),
  ":true": BOOL(true),
  ":false": BOOL(false),
  ":null": NULL,
  ":list": L(N("1"), S("two"), M({ x: N("3") })),
  ":list2": L(N("1"), S("two")),
  ":map": M({ a: S("x"), nested: M({ deep: N("42") }), arr: L(S("p"), S("q")) }),
  ":ss": SS("green", "red"),
  ":ss1": SS("red"),
  ":ns": NS("2.50", "1"),
  ":nsx": NS("7"),
  ":bs": BS([2, 3], [1]),
  ":tS": S("S"),
  ":tN": S("N"),
  ":tB": S("B"),
  ":tBOOL": S("BOOL"),
  ":tNULL": S("NULL"),
  ":tL": S("L"),
  ":tM": S("M"),
  ":tSS": S("SS"),
  ":tNS": S("NS"),
  ":tBS": S("BS"),
  ":tBad": S("STRING"),
  ":d": N("1"),
  ":five": N("5"),
  ":three": N("3"),
  ":42": N("42"),
  ":p": S("p"),
  ":q": S("q"),
  ":two_s": S("two"),
  ":lit": S("literal"),
  ":accent": S("accent"),
  ":bigger": N("12345678901234567890123456789012345679"),
  ":p2": N("0.2"),
  ":max": N("9.9999999999999999999999999999999999999E+125"),
  ":tiny": N("1E-130"),
  ":e30": N("1E+30"),
  ":em30": N("1E-30"),
  ":l1": L(S("z")),
  ":l0": L(),
  ":emptyMap": M({}),
  ":sbc": SS("b", "c"),
  ":sa": SS("a"),
  ":sab": SS("a", "b"),
  ":sz": SS("z"),
  ":n15": NS("1.0", "5"),
  ":n1": NS("1"),
  ":b9": BS([9]),
  ":b1": BS([1]),
}

/** Names referenced by `#name` in table cases. */
export const namePool: Record<string, string> = {
  "#n": "n",
  "#s": "s",
  "#name": "name",
  "#status": "status",
  "#dot": "dotted.name",
  "#m": "m",
  "#nested": "nested",
  "#l": "l",
  "#acc": "é",
  "#size": "size",
  "#new": "newattr",
  "#a": "a",
}

/** The placeholders an expression mentions, taken from the pools. */
export const placeholdersFor = (
  texts: ReadonlyArray<string>,
): { names: Record<string, string> | undefined; values: Record<string, AttributeValue> | undefined } => {
  const names: Record<string, string> = {}
  const values: Record<string, AttributeValue> = {}
  for (const text of texts) {
    for (const m of text.matchAll(/#[A-Za-z0-9_]+/g))
      if (namePool[m[0]] !== undefined) names[m[0]] = namePool[m[0]]!
    for (const m of text.matchAll(/:[A-Za-z0-9_]+/g))
      if (valuePool[m[0]] !== undefined) values[m[0]] = valuePool[m[0]]!
  }
  return {
    names: Object.keys(names).length > 0 ? names : undefined,
    values: Object.keys(values).length > 0 ? values : undefined,
  }
}

/** JSON with bytes shown as arrays, for readable assertion messages. */
export const show = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? { bytes: Array.from(x) } : x))
