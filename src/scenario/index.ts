/** Scenarios: the file format, its loader, expectations, the fleet plan and arrivals. */
export type { ArrivalSpec, BehaviourShares, CohortSpec, DialectName, Expectation, RadioMode, Scenario } from './types.js';
export { loadScenario, parseScenario, parseRate, registerScenarioDialect, knownDialects, type ScenarioOverrides } from './load.js';
export { parseExpectation, evaluateExpectations, parseMetric, operationOf, ONENET_OPERATIONS, LUAT_OPERATIONS, type Metric } from './expectations.js';
export { expandFleet, seededOrder, NO_SIGNAL, FLEET_STREAMS, type FleetPlan } from './fleet.js';
export { arrivalTimeOf, arrivalSpanMs, ARRIVAL_STREAM } from './arrival.js';
export { ScenarioFileSchema, PublishedScenarioSchema, buildScenarioSchema, scenarioJsonSchema, renderScenarioSchema, DEFAULTS as SCENARIO_DEFAULTS, type ScenarioFile } from './schema.js';
export { SCHEMA_FILE, writeScenarioSchema } from './publish-schema.js';
