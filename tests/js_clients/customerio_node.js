// Every TrackClient method of the unmodified customerio-node, and the APIClient sends, against the
// sandbox. Run by tests/test_js_clients.py: `node customerio_node.js URL` with NODE_EXTRA_CA_CERTS
// set to the sandbox's CA. Prints one JSON line per call: {"call", "ok", "answer" | "error"}.
'use strict';
const {
  TrackClient, APIClient, SendEmailRequest, SendPushRequest, SendSMSRequest,
  SendInboxMessageRequest, SendInAppRequest,
} = require('customerio-node');

const base = new URL(process.argv[2]);
const port = Number(base.port);
const version = require('customerio-node/package.json').version;
// 5.x takes the whole URL, ending in /api/v1; 4.x drops the URL's port, so it needs `port` too.
const track = new TrackClient('site-node', 'key-node', { url: `${base.origin}/api/v1`, port });
const api = new APIClient('app-key-node', { url: `${base.origin}/v1`, port });
const T0 = 1700000000;

const calls = [
  ['identify', () => track.identify('u1', { email: 'u1@example.com', created_at: 1427241600, plan: 'pro' })],
  ['identify', () => track.identify('u2', { email: 'u2@example.com' })],
  ['identify', () => track.identify('u3', { email: 'u3@example.com' })],
  ['identify', () => track.identify('u4', { email: 'u4@example.com' })],
  ['track', () => track.track('u1', { name: 'Purchased', data: { price: 23.45 } })],
  ['trackAnonymous', () => track.trackAnonymous('anon-1', { name: 'Viewed', data: { page: '/home' } })],
  ['trackPageView', () => track.trackPageView('u1', '/pricing')],
  ['addDevice', () => track.addDevice('u1', 'tok-1', 'ios', { last_used: T0, model: 'x' })],
  ['addDevice', () => track.addDevice('u1', 'tok-2', 'android')],
  ['deleteDevice', () => track.deleteDevice('u1', 'tok-1')],
  ['suppress', () => track.suppress('u2')],
  ['suppress', () => track.suppress('u3')],
  ['unsuppress', () => track.unsuppress('u3')],
  ['trackPush', () => track.trackPush({ delivery_id: 'd1', event: 'opened', device_id: 'tok-2', timestamp: T0 })],
  ['mergeCustomers', () => track.mergeCustomers('id', 'u1', 'email', 'u4@example.com')],
  ['destroy', () => track.destroy('u3')],
  ['sendEmail', () => api.sendEmail(new SendEmailRequest({
    to: 'u1@example.com', transactional_message_id: 3, identifiers: { id: 'u1' }, message_data: { n: 1 } }))],
  ['sendPush', () => api.sendPush(new SendPushRequest({ transactional_message_id: 4, identifiers: { id: 'u1' } }))],
  ['sendSMS', () => api.sendSMS(new SendSMSRequest({ transactional_message_id: 5, identifiers: { id: 'u1' } }))],
  ['sendInboxMessage', () => api.sendInboxMessage(new SendInboxMessageRequest({
    transactional_message_id: 6, identifiers: { id: 'u1' } }))],
  ['sendInApp', () => api.sendInApp(new SendInAppRequest({ transactional_message_id: 7, identifiers: { id: 'u1' } }))],
  ['track without a name', () => track.track('u1', { data: {} })],
];

(async () => {
  console.log(JSON.stringify({ call: 'version', ok: true, answer: version }));
  for (const [name, run] of calls) {
    try {
      const answer = await run();
      console.log(JSON.stringify({ call: name, ok: true, answer }));
    } catch (error) {
      console.log(JSON.stringify({ call: name, ok: false, error: String(error && error.message || error),
                                   status: error && error.statusCode }));
    }
  }
})();
