/** Shapes shared by the agent and the collector. Nothing else is shared between them. */
export * from './attributes.js';
export * from './finding.js';
export * from './operation.js';
export * from './runtime.js';
export * from './span.js';
