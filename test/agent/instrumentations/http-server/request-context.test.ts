/**
 * The request's context reads as the OpenTelemetry context it stands for: its span, its
 * RPC metadata and its parent's values, and contexts derived from it keep all three.
 */
import { createContextKey, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  getRPCMetadata,
  isTracingSuppressed,
  type RPCMetadata,
  RPCType,
  suppressTracing,
} from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { RequestContext } from '../../../../agent/instrumentations/http-server/request-context.js';

const CALLER = createContextKey('caller');
const span = trace.wrapSpanContext({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: 1,
});

function requestContext() {
  const parent = ROOT_CONTEXT.setValue(CALLER, 'checkout');
  const metadata: RPCMetadata = { type: RPCType.HTTP, span };
  return { context: new RequestContext(parent, metadata), metadata };
}

describe('RequestContext', () => {
  it('holds the span, the RPC metadata and what the parent holds', () => {
    const { context, metadata } = requestContext();
    expect(trace.getSpan(context)).toBe(span);
    expect(getRPCMetadata(context)).toBe(metadata);
    expect(context.getValue(CALLER)).toBe('checkout');
    expect(propagation.getBaggage(context)).toBeUndefined();
  });

  it('derives contexts that keep all of it, and is left as it was', () => {
    const { context, metadata } = requestContext();
    const suppressed = suppressTracing(context);
    expect(isTracingSuppressed(suppressed)).toBe(true);
    expect(trace.getSpan(suppressed)).toBe(span);
    expect(getRPCMetadata(suppressed)).toBe(metadata);
    expect(suppressed.getValue(CALLER)).toBe('checkout');
    expect(isTracingSuppressed(context)).toBe(false);

    const child = trace.wrapSpanContext({ ...span.spanContext(), spanId: '00f067aa0ba902b8' });
    expect(trace.getSpan(trace.setSpan(context, child))).toBe(child);
    expect(trace.getSpan(context)).toBe(span);
  });

  it('deletes a value from a derived context only', () => {
    const { context, metadata } = requestContext();
    const withoutSpan = trace.deleteSpan(context);
    expect(trace.getSpan(withoutSpan)).toBeUndefined();
    expect(getRPCMetadata(withoutSpan)).toBe(metadata);
    expect(trace.getSpan(context)).toBe(span);
  });
});
