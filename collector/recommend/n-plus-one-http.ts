/** The fix for an n_plus_one_http: one batch call, or bounded parallel calls, instead of one call per item. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';

export function recommendNPlusOneHttp(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const method = String(evidence.method ?? 'GET');
  const host = String(evidence.host ?? 'api.example.com');
  const template = String(evidence.urlTemplate ?? '/');
  const repeats = Math.round(Number(evidence.avgRepeats ?? 0));
  const perItem = `https://${host}${template.replace(/\{\w+\}/, interpolation('id'))}`;
  const batch = `https://${host}${template.replace(/\/\{\w+\}.*$/, '')}?ids=${interpolation("ids.join(',')")}`;
  return {
    summary: `Make one batch call instead of ${repeats} ${method} ${template} calls, or run them in parallel with a limit`,
    detail:
      `Each request calls ${method} ${host}${template} ${repeats}× on average, paying a round trip each time. ` +
      'If the service offers a batch endpoint (many ids in one call), use it. If not, run the calls ' +
      'concurrently with a small limit, so the request waits for the slowest call rather than the sum, ' +
      'without flooding the other service. Responses that repeat across requests can be cached for a short TTL.',
    code: [
      '// One call for all ids, when the service has a batch endpoint:',
      `const items = await (await fetch(\`${batch}\`)).json();`,
      '',
      '// Otherwise, bounded parallel calls (at most 8 in flight):',
      'async function mapLimit(values, limit, fn) {',
      '  const results = new Array(values.length);',
      '  let next = 0;',
      '  const workers = Array.from({ length: Math.min(limit, values.length) }, async () => {',
      '    while (next < values.length) {',
      '      const index = next++;',
      '      results[index] = await fn(values[index]);',
      '    }',
      '  });',
      '  await Promise.all(workers);',
      '  return results;',
      '}',
      `const items = await mapLimit(ids, 8, async (id) => (await fetch(\`${perItem}\`)).json());`,
    ].join('\n'),
    language: 'javascript',
  };
}

/** `${expression}` for JavaScript the user pastes (kept out of our own template literals). */
function interpolation(expression: string): string {
  return `$${'{'}${expression}}`;
}
