/**
 * The agent's name and version, as instrumentation scopes and `telemetry.distro.*` name it.
 * Read from its own package.json through the package's self-reference, so it cannot go stale.
 */
export const AGENT_NAME = 'chokepoint';
export const AGENT_VERSION: string = require('chokepoint/package.json').version;
