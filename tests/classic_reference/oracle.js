// Answers one JSON request per line on stdin with one JSON line on stdout, using the published
// date packages the classic Customer.io integration depends on. Requests:
//   {"op": "is", "value": s, "strict": b}  -> isodate.is(s, strict)
//   {"op": "parse", "value": s}            -> isodate.parse(s).getTime() (null for NaN)
//   {"op": "new_date", "value": v}         -> newDate(v).getTime() (null for NaN)
//   {"op": "convert", "value": v}          -> isodate-traverse(v), then each Date as unix-time
//   {"op": "body", "value": event}         -> the body the classic integration's mapper builds for
//                                             the event (identify, group, track, page, screen),
//                                             composed here from the facade's readers
'use strict';
const readline = require('readline');
const isodate = require('@segment/isodate');
const traverse = require('@segment/isodate-traverse');
const newDate = require('new-date');
const unixTime = require('unix-time');
const facade = require('@segment/facade');
const objCase = require('obj-case');

function ms(date) {
  const t = date.getTime();
  return Number.isNaN(t) ? null : t;
}

function seconds(value) {
  if (value instanceof Date) {
    const s = unixTime(value);
    return Number.isNaN(s) ? null : s;
  }
  if (Array.isArray(value)) return value.map(seconds);
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = seconds(value[key]);
    return out;
  }
  return value;
}

// The mapper's rules (lib/mapper.js of the integration), written with the facade's own readers.
const bodies = {
  identify(msg) {
    return seconds(traverse(msg.traits({ created: 'created_at', email: 'email' })));
  },
  group(msg) {
    const raw = msg.json();
    const traits = raw.traits || {};
    const out = {};
    const email = msg.email();
    if (email) {
      out.email = email;
      objCase.del(traits, 'email');
    }
    for (const key of Object.keys(traits)) out['Group ' + key] = traits[key];
    out['Group id'] = msg.groupId();
    raw.traits = seconds(traverse(out));
    raw.userId = msg.userId();
    return bodies.identify(new facade.Identify(raw));
  },
  track(msg) {
    return { timestamp: unixTime(msg.timestamp()), data: seconds(traverse(msg.properties())), name: msg.event() };
  },
  page(msg) {
    const props = traverse(msg.properties());
    const url = props.url;
    delete props.url;
    return { timestamp: unixTime(msg.timestamp()), type: 'page', name: url, data: seconds(props) };
  },
  screen(msg) {
    const props = traverse(msg.properties());
    const name = `Viewed ${msg.name()} Screen`;
    delete props.name;
    return { timestamp: unixTime(msg.timestamp()), name, data: seconds(props) };
  },
};
const FACADES = { identify: facade.Identify, group: facade.Group, track: facade.Track, page: facade.Page, screen: facade.Screen };

function body(event) {
  const msg = new FACADES[event.type](event);
  return JSON.parse(JSON.stringify(bodies[event.type](msg)));
}

function answer(request) {
  switch (request.op) {
    case 'is': return isodate.is(request.value, request.strict);
    case 'parse': return ms(isodate.parse(request.value));
    case 'new_date': return ms(newDate(request.value));
    case 'convert': return seconds(traverse(request.value));
    case 'body': return body(request.value);
    default: throw new Error('unknown op ' + request.op);
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let out;
  try {
    out = { ok: answer(JSON.parse(line)) };
  } catch (err) {
    out = { error: String(err) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
