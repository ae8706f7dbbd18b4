import { describe, expect, it } from 'vitest';
import { serveOptionsFromArgs, type ServeArgs } from '../../../src/cli/serve.js';
import { parseCatalog } from '../../../src/catalog/load.js';
import { parseBugs } from '../../../src/server/bugs.js';
import { parseFaultConfig, parseFaultFlag, resolveFaults } from '../../../src/server/faults/config.js';
import { startServer } from '../../../src/server/index.js';
import { errorOf } from '../../scenario/config-error.js';

const args = (o: Partial<ServeArgs> = {}): ServeArgs => ({ port: 0, host: '127.0.0.1', quiet: true, 'allow-remote': false, ...o });

describe('LwM2M configuration: flags, faults, bugs, catalog', () => {
  it('--coap-port is checked and passed on; refused with --time-scale max', () => {
    expect(serveOptionsFromArgs(args({ 'coap-port': 5683 }), {}).options.coapPort).toBe(5683);
    expect(serveOptionsFromArgs(args(), {}).options.coapPort).toBeUndefined();
    expect(errorOf(() => serveOptionsFromArgs(args({ 'coap-port': 70000 }), {}))).toBe('--coap-port: expected 0–65535, got 70000');
    expect(errorOf(() => serveOptionsFromArgs(args({ 'coap-port': 0, 'time-scale': 'max' }), {}))).toMatch(/^--coap-port: needs a finite --time-scale/);
  });

  it('--lwm2m-schedule picks the retransmit schedule (huawei by default)', () => {
    expect(serveOptionsFromArgs(args({ 'lwm2m-schedule': 'rfc7252' }), {}).options.catalog?.lwm2m?.schedule).toBe('rfc7252');
    expect(serveOptionsFromArgs(args({ 'lwm2m-schedule': 'rfc7252' }), {}).options.catalog?.lwm2m?.packages[0]?.id).toBe('lwm2m-fw-2');
    expect(serveOptionsFromArgs(args(), {}).options.catalog?.lwm2m).toBeUndefined();
    expect(errorOf(() => serveOptionsFromArgs(args({ 'lwm2m-schedule': 'fast' }), {}))).toBe('--lwm2m-schedule: expected huawei or rfc7252, got fast');
  });

  it('--lwm2m-max-registrations caps the registry (catalog lwm2m.maxRegistrations), one-line errors', () => {
    expect(serveOptionsFromArgs(args({ 'lwm2m-max-registrations': 500 }), {}).options.catalog?.lwm2m?.maxRegistrations).toBe(500);
    expect(serveOptionsFromArgs(args({ 'lwm2m-max-registrations': 500 }), {}).options.catalog?.lwm2m?.packages[0]?.id).toBe('lwm2m-fw-2');
    expect(errorOf(() => serveOptionsFromArgs(args({ 'lwm2m-max-registrations': 0 }), {}))).toBe('--lwm2m-max-registrations: expected an integer from 1 to 100000000, got 0');
    expect(errorOf(() => serveOptionsFromArgs(args({ 'lwm2m-max-registrations': 1.5 }), {}))).toMatch(/^--lwm2m-max-registrations: /);
    expect(parseCatalog('lwm2m:\n  maxRegistrations: 7\n', 'c.yaml', {}).lwm2m?.maxRegistrations).toBe(7);
    expect(errorOf(() => parseCatalog('lwm2m:\n  maxRegistrations: 0\n', 'c.yaml', {}))).toMatch(/c\.yaml:2.*maxRegistrations/);
  });

  it('the coap fault knobs parse from flags and data, with one-line errors', () => {
    expect(parseFaultFlag('coap.loss=5%')).toEqual({ coap: { lossRate: 0.05 } });
    expect(parseFaultFlag('coap.lateAck=3s')).toEqual({ coap: { lateAck: { dist: 'fixed', value: 3000 } } });
    expect(parseFaultConfig({ coap: { duplicate: 0.1, reorder: '10%', separate: 0.5 } })).toEqual({ coap: { duplicateRate: 0.1, reorderRate: 0.1, separateRate: 0.5 } });
    expect(errorOf(() => parseFaultConfig({ coap: { loss: 2 } }))).toMatch(/^faults\.coap\.loss: expected a share/);
    expect(resolveFaults({ coap: { lossRate: 0.2 } }).coap).toEqual({ lossRate: 0.2 });
  });

  it('the four LwM2M bugs are named bugs', () => {
    expect(parseBugs(['lwm2m-no-queue', 'lwm2m-retransmit-early', 'lwm2m-give-up-early', 'block2-off-by-one'])).toHaveLength(4);
  });

  it('a catalog lwm2m section is checked: a campaign names a package of the section, file:line in the error', () => {
    const ok = parseCatalog('lwm2m:\n  packages:\n    - { id: p1, version: "2.0", size: 1000 }\n  campaigns:\n    - { endpoints: "ep-{0..9}", package: p1 }\n', 'c.yaml', {});
    expect(ok.lwm2m?.schedule).toBe('huawei');
    expect(ok.lwm2m?.campaigns[0]?.observe).toBe(true);
    const bad = errorOf(() => parseCatalog('lwm2m:\n  packages:\n    - { id: p1, version: "2.0", size: 1000 }\n  campaigns:\n    - { endpoints: "ep-{0..9}", package: p2 }\n', 'c.yaml', {}));
    expect(bad).toMatch(/^c\.yaml:5:\d+: lwm2m\.campaigns\.0\.package: no package "p2"/);
    expect(errorOf(() => parseCatalog('lwm2m:\n  schedule: fast\n', 'c.yaml', {}))).toMatch(/^c\.yaml:2(:\d+)?: lwm2m\.schedule/);
  });

  it('a CoAP port in use is a one-line ConfigError', async () => {
    const a = await startServer({ coapPort: 0, quiet: true });
    const port = Number(new URL((a.coapUrl as string).replace('coap:', 'http:')).port);
    try {
      await expect(startServer({ coapPort: port, quiet: true })).rejects.toThrow(/^cannot listen on udp 127\.0\.0\.1:\d+ \(coap\): address in use \(EADDRINUSE\)$/);
    } finally {
      await a.close();
    }
  });
});
