/**
 * The context a request is served in: its parent (what the caller propagated), its SERVER
 * span and the RPC metadata frameworks name the route in, held in one small object.
 * OpenTelemetry's own context copies its whole Map for every value set, so the usual
 * `setRPCMetadata(trace.setSpan(parent, span), metadata)` costs two copies per request;
 * here the two values are fields, and the copies are made once, only for a context a
 * framework derives from this one.
 */
import { type Context, INVALID_SPAN_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { type RPCMetadata, RPCType, setRPCMetadata } from '@opentelemetry/core';

/** The key `set` stores its value under, caught by handing it a context that records the call. */
function keyOf(set: (context: Context) => Context): symbol {
  let key: symbol | undefined;
  const recorder: Context = {
    getValue: () => undefined,
    setValue(setKey) {
      key = setKey;
      return recorder;
    },
    deleteValue: () => recorder,
  };
  set(recorder);
  if (key === undefined) throw new Error('OpenTelemetry set no context value');
  return key;
}

const SPAN_KEY = keyOf((context) => trace.setSpan(context, trace.wrapSpanContext(INVALID_SPAN_CONTEXT)));
const RPC_METADATA_KEY = keyOf((context) =>
  setRPCMetadata(context, { type: RPCType.HTTP, span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT) }),
);

/**
 * Reads as `setRPCMetadata(trace.setSpan(parent, metadata.span), metadata)` does.
 *
 * @example
 * const requestContext = new RequestContext(parent, { type: RPCType.HTTP, span });
 * trace.getSpan(requestContext) === span; // true
 */
export class RequestContext implements Context {
  /** The same values as an OpenTelemetry context, built when a value is first set or deleted. */
  private derivable: Context | undefined;

  constructor(
    private readonly parent: Context,
    private readonly metadata: RPCMetadata & { span: Span },
  ) {}

  getValue(key: symbol): unknown {
    if (key === SPAN_KEY) return this.metadata.span;
    if (key === RPC_METADATA_KEY) return this.metadata;
    return this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.asOpenTelemetryContext().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.asOpenTelemetryContext().deleteValue(key);
  }

  private asOpenTelemetryContext(): Context {
    this.derivable ??= setRPCMetadata(trace.setSpan(this.parent, this.metadata.span), this.metadata);
    return this.derivable;
  }
}
