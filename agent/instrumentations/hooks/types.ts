import type { InstrumentationConfigMap } from '@opentelemetry/auto-instrumentations-node';

type UpstreamName = keyof InstrumentationConfigMap;
type ShortName<Name> = Name extends `@opentelemetry/instrumentation-${infer Short}` ? Short : never;

/**
 * An upstream instrumentation's configuration, by short name (`pg`, `ioredis` …), typed
 * through auto-instrumentations-node, the package the agent depends on.
 */
export type UpstreamConfig<Short extends ShortName<UpstreamName>> = NonNullable<
  InstrumentationConfigMap[Extract<UpstreamName, `@opentelemetry/instrumentation-${Short}`>]
>;

/** The information object a hook of an upstream configuration receives after the span. */
export type HookInfo<Hook> = Hook extends (span: never, info: infer Info, ...rest: never[]) => unknown
  ? Info
  : never;
