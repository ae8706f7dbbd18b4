/** The fault-knob endpoint names of the hawkBit DDI calls (one per resource kind). */
export const DDI_ENDPOINTS = ['ddiPoll', 'ddiDeployment', 'ddiFeedback', 'ddiCancel', 'ddiConfig', 'ddiDownload'] as const;
export type DdiEndpoint = (typeof DDI_ENDPOINTS)[number];
