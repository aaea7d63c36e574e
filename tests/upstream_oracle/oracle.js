// Answers FQL and mapping cases with Segment's own published packages (the oracle for
// tests/test_upstream_oracle.py). Reads a JSON array of cases on stdin, writes a JSON array of
// answers on stdout. Run by record.py; see its docstring for the packages it needs.
//
//   {"kind": "fql", "text": ..., "events": [...]}  → {"ast": ...,  "matches": [bool | "throws: ..."]}
//                                                   | {"error": message}
//   {"kind": "map", "mapping": ..., "data": ...}    → {"result": ...}
//                                                   | {"validation": [messages]}  (validate.ts rejected it)
//                                                   | {"throws": message}        (failed while resolving)

const path = require('path')
const modules = process.argv[2] || path.join(process.cwd(), 'node_modules')
const subs = require(path.join(modules, '@segment/destination-subscriptions'))
const { transform } = require(path.join(modules, '@segment/actions-core/dist/cjs/mapping-kit/index.js'))

const UNDEFINED = { '\u0000': 'undefined' }

// JSON cannot say `undefined` (an AST child the parser left empty) nor NaN: mark them.
function encode(value) {
  if (value === undefined) return UNDEFINED
  if (Array.isArray(value)) return value.map(encode)
  if (typeof value === 'number' && !Number.isFinite(value)) return { '\u0000': String(value) }
  if (value !== null && typeof value === 'object') {
    const out = {}
    for (const key of Object.keys(value)) out[key] = encode(value[key])
    return out
  }
  return value
}

function validationMessages(error) {
  if (error && error.constructor && error.constructor.name === 'ValidationError') return [error.message]
  if (error && error.constructor && error.constructor.name === 'AggregateError') {
    const inner = error.errors || [...error]
    if (inner.every((e) => e.constructor && e.constructor.name === 'ValidationError')) {
      return inner.map((e) => e.message)
    }
  }
  return null
}

function answer(item) {
  if (item.kind === 'fql') {
    const ast = subs.parseFql(item.text)
    if (ast.error) return { error: String(ast.error.message) }
    const matches = item.events.map((event) => {
      try {
        return subs.validate(ast, event)
      } catch (error) {
        return 'throws: ' + error.message
      }
    })
    return { ast: encode(ast), matches }
  }
  try {
    // JSON.parse(JSON.stringify(...)): what a JSON round trip keeps (undefined array items → null).
    return { result: JSON.parse(JSON.stringify(transform(item.mapping, item.data))) }
  } catch (error) {
    const validation = validationMessages(error)
    return validation ? { validation } : { throws: String(error && error.message) }
  }
}

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
process.stdout.write(JSON.stringify(input.map(answer)))
