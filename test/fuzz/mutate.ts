// Structural mutations of valid JSON values and the hostile values they plant, shared by the HTTP
// and the decoder suites. A mutant remembers where it was changed, so a test can check that the
// refusal names that field.
import fc from 'fast-check'

export type JsonPath = readonly (string | number)[]

export type MutationOp = 'replace' | 'remove' | 'add-key' | 'duplicate-item' | 'grow' | 'tweak' | 'wrap'
// Growing an array past its cap makes a body of hundreds of kilobytes that costs tens of
// milliseconds to check, so it is rare (about 1 mutant in 200): a few dozen per route show the cap holds.
const OP_WEIGHTS: Readonly<Record<MutationOp, number>> = { replace: 40, remove: 27, 'add-key': 27, 'duplicate-item': 27, tweak: 40, wrap: 20, grow: 1 }

export interface Mutant {
  /** undefined when the whole value was removed. */
  readonly value: unknown
  /** The node whose subtree changed (for add-key, the object that gained the key). */
  readonly path: JsonPath
  readonly op: MutationOp
}

// Text JSON.stringify cannot write (number tokens such as 1e999 or -0) or writes slowly (nesting
// thousands deep): planted as a marker string, spliced into the text by toJsonText.
const deep = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`
const RAW_NUMBERS = ['1e999', '-1e999', '-0', '-0.0', '1.0', '1e0', '0.1e1', '5e-324', '1e-400', '123456789012345678901234567890', '9007199254740993']
const RAW_NESTING = [
  deep(100),
  deep(1_000),
  deep(10_000),
  `{"constructor":{"prototype":${deep(1_000)}}}`,
  `{"__proto__":${deep(1_000)}}`,
  `{"a":${deep(10_000)},"constructor":{"prototype":{}}}`,
]
const RAW_TOKENS: readonly string[] = [...RAW_NUMBERS, ...RAW_NESTING]
/** Deeper than any recursive walk survives (a JSON.parse reviver overflows the stack here). */
export const VERY_DEEP = deep(50_000)
const RAW_MARK = '\u0000raw:'
const RAW_PATTERN = /"\\u0000raw:(\d+)"/g

/** JSON text of `value` with raw tokens in place; '' for undefined (no body at all). */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? ''
  return text.includes('\\u0000raw:') ? text.replace(RAW_PATTERN, (_, i: string) => RAW_TOKENS[Number(i)]!) : text
}

// Keys only JSON.parse can make own properties of a plain object; JSON.stringify writes them back.
const POISON = [JSON.parse('{"__proto__":{"polluted":true}}'), JSON.parse('{"constructor":{"prototype":{"polluted":true}}}')] as unknown[]

const EDGE_VALUES: readonly unknown[] = [
  -1,
  0,
  1,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  'NaN',
  'Infinity',
  '-Infinity',
  '',
  ' ',
  '0',
  '-1',
  '1e3',
  '0x10',
  'null',
  'true',
  'undefined',
  '\u0000',
  '\ud800',
  '😀',
  'ЖЖЖ',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  'a'.repeat(129),
  'a'.repeat(501),
  null,
  true,
  false,
  [],
  {},
  [null],
  { '': null },
  ...POISON,
]

const oversizedString = fc.integer({ min: 129, max: 20_000 }).map((n) => 'x'.repeat(n))
const oversizedArray = fc.integer({ min: 1_001, max: 1_200 }).map((n) => new Array<number>(n).fill(1))

/** Anything a careless or hostile client might put where a field belongs. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_VALUES) },
  { weight: 3, arbitrary: fc.nat({ max: RAW_NUMBERS.length - 1 }).map((i) => `${RAW_MARK}${i}`) },
  { weight: 1, arbitrary: fc.nat({ max: RAW_NESTING.length - 1 }).map((i) => `${RAW_MARK}${RAW_NUMBERS.length + i}`) },
  { weight: 1, arbitrary: oversizedString },
  { weight: 1, arbitrary: oversizedArray },
)

/** Names for unknown fields: plain, so an "Unrecognized key" message stays easy to read back. */
const unknownKey = fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,11}$/).map((k) => `x_${k}`)

/** Every path in a JSON value, root first. */
export function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const paths: JsonPath[] = [prefix]
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...prefix, i])))
  else if (isObject(value)) for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]))
  return paths
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function at(root: unknown, path: JsonPath): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root)
}

function tweak(node: unknown, variant: number): unknown {
  if (typeof node === 'number') return [node + 1, node - 1, -node - 1, node + 0.5, node * 1e6, String(node)][variant % 6]
  if (typeof node === 'string') {
    const changed = [`${node}x`, node.slice(1), node.toUpperCase() === node ? node.toLowerCase() : node.toUpperCase(), '', ` ${node}`, `${node}\n`]
    return changed[variant % changed.length]
  }
  if (typeof node === 'boolean') return !node
  if (node === null) return 0
  return Array.isArray(node) ? {} : []
}

interface Choice {
  readonly target: number
  readonly op: MutationOp
  readonly value: unknown
  readonly key: string
  readonly variant: number
  readonly count: number
}

function apply(base: unknown, paths: readonly JsonPath[], choice: Choice): Mutant {
  const root = structuredClone(base)
  let path = paths[choice.target % paths.length] ?? []
  const { op } = choice
  const set = (value: unknown): Mutant => {
    if (path.length === 0) return { value, path, op }
    const parent = at(root, path.slice(0, -1)) as Record<string | number, unknown>
    parent[path[path.length - 1]!] = value
    return { value: root, path, op }
  }
  const node = at(root, path)
  switch (op) {
    case 'replace':
      return set(choice.value)
    case 'remove': {
      if (path.length === 0) return { value: undefined, path, op }
      const parent = at(root, path.slice(0, -1))
      const key = path[path.length - 1]!
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete (parent as Record<string, unknown>)[key]
      return { value: root, path: path.slice(0, -1), op }
    }
    case 'add-key':
      if (isObject(node)) {
        node[choice.key] = choice.value
        return { value: root, path, op }
      }
      return set(choice.value)
    case 'duplicate-item':
    case 'grow': {
      // The nearest array at or above the chosen node gains copies of one of its own items.
      while (path.length > 0 && !Array.isArray(at(root, path))) path = path.slice(0, -1)
      const list = at(root, path)
      if (!Array.isArray(list) || list.length === 0) return set(choice.value)
      const item: unknown = list[choice.variant % list.length]
      const copies = op === 'grow' ? Math.max(0, choice.count - list.length) : 1
      // Shared references serialise like copies, at a fraction of the cost of cloning thousands.
      for (let i = 0; i < copies; i++) list.push(item)
      return { value: root, path, op }
    }
    case 'tweak':
      return set(tweak(node, choice.variant))
    case 'wrap':
      return set(choice.variant % 2 === 0 ? [node] : { value: node })
  }
}

/**
 * One structural change to `base` (which is never modified). `grow: false` leaves out growing an
 * array past 1,000 items, for decoders whose caps are higher and whose inputs are costly per item.
 */
export function mutantOf(base: unknown, { grow = true }: { grow?: boolean } = {}): fc.Arbitrary<Mutant> {
  const paths = pathsOf(base)
  return fc
    .record({
      target: fc.nat({ max: paths.length - 1 }),
      op: fc.oneof(
        ...Object.entries(OP_WEIGHTS)
          .filter(([op]) => grow || op !== 'grow')
          .map(([op, weight]) => ({ weight, arbitrary: fc.constant(op as MutationOp) })),
      ),
      value: hostileValue,
      key: unknownKey,
      variant: fc.nat({ max: 1_000 }),
      // Just past the common 1,000 cap mostly; rarely past 5,000 and 10,000 (and the body limit).
      count: fc.oneof({ weight: 100, arbitrary: fc.constant(1_001) }, fc.constant(5_001), fc.constant(10_001)),
    })
    .map((choice) => apply(base, paths, choice))
}

/** Two paths are related when one lies inside the other: a refusal about either is about the change. */
export function related(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}
