#!/usr/bin/env node
// A minimal loopback LwM2M responder for the lwm2m bench: answers Register (POST /rd) with 2.01
// and a location, Update (POST /rd/N) with 2.04, De-register (DELETE /rd/N) with 2.02, and
// acknowledges nothing else. It holds no device state: what is measured is the harness.
//   node bench/fleet/lwm2m-responder.js --port P   (prints "ready PORT"; ends on SIGTERM or stdin close)
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
const { generate, parse } = createRequire(import.meta.url)('coap-packet');

const port = Number(process.argv[process.argv.indexOf('--port') + 1] ?? 0);
const sock = createSocket('udp4');
let next = 1;
let answered = 0;
sock.on('message', (msg, peer) => {
  let p;
  try {
    p = parse(msg);
  } catch {
    return;
  }
  if (!p.confirmable || p.code === '0.00') return;
  const path = p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString());
  let code = '4.04';
  const options = [];
  if (p.code === '0.02' && path.length === 1 && path[0] === 'rd') {
    code = '2.01';
    options.push({ name: 'Location-Path', value: Buffer.from('rd') }, { name: 'Location-Path', value: Buffer.from(String(next++)) });
  } else if (p.code === '0.02' && path[0] === 'rd') code = '2.04';
  else if (p.code === '0.04' && path[0] === 'rd') code = '2.02';
  answered++;
  sock.send(generate({ messageId: p.messageId, token: p.token, code, ack: true, options }), peer.port, peer.address);
});
sock.bind(port, '127.0.0.1', () => process.stdout.write(`ready ${sock.address().port}\n`));
const end = () => {
  process.stdout.write(`answered ${answered}\n`);
  process.exit(0);
};
process.on('SIGTERM', end);
process.stdin.on('end', end);
process.stdin.resume();
