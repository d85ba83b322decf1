// Preloaded after the agent by the breakdown bench, with the upstream http instrumentation
// disabled: a prototype SERVER span per request that records what Chokepoint reads (method,
// path, status) and binds no event emitter. It sizes what a lean server instrumentation
// would save; it has no route, which frameworks' instrumentations add in real apps.
const http = require('node:http');
const { context, propagation, ROOT_CONTEXT, SpanKind, trace } = require('@opentelemetry/api');

const tracer = trace.getTracer('chokepoint-bench-lean-http');
const emit = http.Server.prototype.emit;

http.Server.prototype.emit = function emitWithServerSpan(event, ...args) {
  if (event !== 'request') return emit.call(this, event, ...args);
  const [request, response] = args;
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const query = request.url.indexOf('?');
  const span = tracer.startSpan(
    request.method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': request.method,
        'url.path': query < 0 ? request.url : request.url.slice(0, query),
      },
    },
    parent,
  );
  response.once('finish', () => {
    span.setAttribute('http.response.status_code', response.statusCode);
    span.end();
  });
  return context.with(trace.setSpan(parent, span), emit, this, event, ...args);
};
