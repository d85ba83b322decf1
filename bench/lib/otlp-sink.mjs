/**
 * Where the agent benches export when no collector is wanted (vanilla OpenTelemetry always,
 * Chokepoint for the same-sink figures): an HTTP server on port 0 that answers every export
 * 200 with an empty protobuf response. It decodes each body with the collector's decoder
 * only to count spans, so dropped spans show in the results.
 */
import { createServer } from 'node:http';
import { decodeProtobufTraceRequest } from '../../dist/collector/receive/otlp-protobuf.js';

/**
 * @example
 * const sink = await startOtlpSink();
 * // OTEL_EXPORTER_OTLP_ENDPOINT=sink.url … sink.spans
 * await sink.close();
 */
export async function startOtlpSink() {
  const counts = { requests: 0, spans: 0, undecodable: 0 };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      counts.requests++;
      if (request.url === '/v1/traces') {
        try {
          counts.spans += decodeProtobufTraceRequest(new Uint8Array(Buffer.concat(chunks))).length;
        } catch {
          counts.undecodable++;
        }
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get spans() {
      return counts.spans;
    },
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
