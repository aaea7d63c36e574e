// How the published actions-core turns Customer.io's answers into results, for the delivery
// model's differential test (tests/test_delivery_reference.py). Reads one JSON document on stdin:
//   {"modules": ".../node_modules", "statuses": [200, 207, 400, ...]}
// and prints one JSON document: the request client's default timeout, the status of its timeout
// error, and per status what a single event (onEvent) and a batch of three (executeBatch) give.
const path = require('path')

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'))
const modules = input.modules
const fetchModule = require(path.join(modules, '@segment/actions-core/dist/cjs/fetch.js'))
const core = require(path.join(modules, '@segment/actions-core'))
const client = require(path.join(modules, '@segment/actions-core/dist/cjs/request-client.js'))
const definition = require(path.join(modules, '@segment/action-destinations/dist/destinations/customerio')).default

let answer = { status: 200, body: '{}' }
fetchModule.default = async function answering() {
  return new fetchModule.Response(answer.body, { status: answer.status, headers: { 'content-type': 'application/json' } })
}

const destination = new core.Destination(definition)
const settings = { siteId: 'site', apiKey: 'key' }
const mapping = {
  name: { '@path': '$.event' },
  id: { '@path': '$.messageId' },
  identifiers: { id: { '@path': '$.userId' } },
  timestamp: { '@path': '$.timestamp' },
  enable_batching: true,
  batch_size: 50
}
const event = (n) => ({ type: 'track', userId: `u${n}`, event: 'Paid', messageId: `m${n}`, timestamp: '2024-01-01T00:00:00Z' })

async function single(status) {
  answer = { status, body: status === 207 ? '{"errors":[{"batch_index":1,"reason":"required","field":"name","message":"x"}]}' : '{}' }
  try {
    await destination.executeAction('trackEvent', { event: event(1), mapping, settings })
    return { ok: true }
  } catch (error) {
    return { ok: false, status: error.status ?? error.response?.status ?? null, name: String(error.name) }
  }
}

async function batch(status) {
  answer = { status, body: status === 207 ? '{"errors":[{"batch_index":1,"reason":"required","field":"name","message":"x"}]}' : '{}' }
  try {
    const nodes = await destination.executeBatch('trackEvent', { events: [event(1), event(2), event(3)], mapping, settings })
    return { statuses: nodes.map((n) => n.status) }
  } catch (error) {
    return { thrown: error.status ?? error.response?.status ?? null }
  }
}

async function main() {
  const out = {
    default_timeout_ms: client.DEFAULT_REQUEST_TIMEOUT,
    timeout_error_status: new client.RequestTimeoutError().status,
    single: {},
    batch: {}
  }
  for (const status of input.statuses) {
    out.single[status] = await single(status)
    out.batch[status] = await batch(status)
  }
  process.stdout.write(JSON.stringify(out))
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error))
  process.exit(1)
})
