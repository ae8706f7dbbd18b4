// The ceiling: a bare node:http server answering a constant JSON body (and a constant 64 KiB body
// for the download row). Runs in its own process; prints {"url"} on its first stdout line.
import { createServer } from 'node:http';

const JSON_BODY = JSON.stringify({ errno: 0, error: 'succ', data: { target: 'V2.0', token: 'ota_AAAAAAAAAAAAAAAAAAAA', size: 196608, signal: 5, power: 20, retry: 3, interval: 60, md5: '0123456789abcdef0123456789abcdef', ipPort: '127.0.0.1:1', type: 1 } });
// The same kind of bytes the reference server sends (random-looking): a load generator that decodes
// bodies (autocannon turns them into strings) pays the same for both rows.
const { generatePackageBytes } = await import('../../dist/catalog/package-bytes.js');
const BLOB = generatePackageBytes(11, 196608).subarray(0, 64 * 1024);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.url === '/blob') {
    res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-length': BLOB.length, 'content-range': `bytes 0-${BLOB.length - 1}/196608` });
    res.end(BLOB);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(JSON_BODY) });
  res.end(JSON_BODY);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
