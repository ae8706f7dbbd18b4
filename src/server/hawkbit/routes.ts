/** The hawkBit DDI routes: which endpoint (fault knobs, counters) and method each resource has. */
import { parseDdiPath, type DdiResource } from '../../protocol/hawkbit.js';
import type { Route } from '../router.js';

const route = (endpoint: Route['endpoint'], needsBody: boolean): Route => ({ endpoint, needsBody, call: (s, c) => s.hawkbit.call(c) });

export const DDI_ROUTES: Readonly<Record<DdiResource['kind'], Readonly<Record<string, Route>>>> = {
  poll: { GET: route('ddiPoll', false) },
  deployment: { GET: route('ddiDeployment', false) },
  feedback: { POST: route('ddiFeedback', true) },
  cancel: { GET: route('ddiCancel', false) },
  cancelFeedback: { POST: route('ddiFeedback', true) },
  configData: { PUT: route('ddiConfig', true) },
  artifact: { GET: route('ddiDownload', false) },
};

/** The kind of DDI resource a path names, or undefined when it names none. */
export const matchDdi = (path: string): DdiResource['kind'] | undefined => (path.indexOf('/controller/v1/') > 0 ? parseDdiPath(path)?.resource.kind : undefined);
