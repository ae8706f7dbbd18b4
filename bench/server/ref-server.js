// The reference server (compiled, from dist/) in its own process; prints {"url","adminToken"}.
import { startServer } from '../../dist/server/index.js';

const server = await startServer({ port: 0, quiet: true });
process.stdout.write(`${JSON.stringify({ url: server.url, adminToken: server.adminToken, virtualNow: server.clock.now() })}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
