/**
 * The chart library inlined into every report.html: uPlot's browser build and stylesheet, read
 * from its npm package once per process. Inlined, not linked, so the report opens offline and
 * stays readable when archived as a CI artifact.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ChartLibrary {
  name: string;
  version: string;
  script: string;
  css: string;
}

let cached: ChartLibrary | undefined;

export function chartLibrary(): ChartLibrary {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  let script: string;
  let css: string;
  let version: string;
  try {
    script = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    version = String((JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')) as { version?: unknown }).version);
  } catch (e) {
    throw new Error(`report.html needs the uplot package (npm install uplot@1): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  // Inlined text must not be able to close its own element.
  if (/<\/script/i.test(script) || /<\/style/i.test(css)) throw new Error('uplot build contains a closing script/style tag; cannot inline it');
  cached = { name: 'uPlot', version, script, css };
  return cached;
}
