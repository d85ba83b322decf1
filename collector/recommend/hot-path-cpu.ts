/**
 * The fix for a hot_path_cpu: take the named function off the event loop, in the way
 * that suits what it is — the async form of a synchronous crypto, zlib or fs call, a
 * streamed or smaller JSON payload, a safer regular expression, a cheaper synchronous SQLite
 * query (its slow_query finding has the plan), or, for the app's own CPU-heavy code, a worker
 * thread (piscina), chunks that yield with setImmediate, or a cache.
 */
import type { FindingCandidate, ProfileFrame, Recommendation } from '../../model/index.js';
import { type RelatedFinding, relatedFindings } from './related.js';

type Place = Pick<ProfileFrame, 'functionName' | 'url' | 'line' | 'package'>;

interface Advice {
  summary: string;
  why: string;
  code: string[];
}

const CRYPTO_SYNC =
  /^(pbkdf2|scrypt|hkdf|generateKeyPair|generateKey|generatePrime|randomFill|checkPrime)Sync$/;
const BCRYPT_SYNC = /^(hashSync|compareSync|genSaltSync)$/;
const ZLIB_SYNC =
  /^(gzip|gunzip|deflate|inflate|deflateRaw|inflateRaw|unzip|brotliCompress|brotliDecompress)Sync$/;
const REGEX_CALLS = new Set([
  'exec',
  'test',
  'match',
  'matchAll',
  'replace',
  'replaceAll',
  'split',
  'search',
]);
const JSON_CALLS = new Set(['parse', 'stringify']);
const JSON_PACKAGES =
  /^(body-parser|fast-json-stringify|safe-stable-stringify|json-bigint|secure-json-parse)$/;

/**
 * @example
 * recommendHotPathCpu(candidate).summary; // 'Use the asynchronous pbkdf2 instead of pbkdf2Sync in hashPassword'
 */
export function recommendHotPathCpu(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const share = `${Math.round(Number(evidence.share ?? 0) * 100)}%`;
  const sampled = `${evidence.sampledMs} ms of CPU samples over ${evidence.stalls} stalls`;
  if (typeof evidence.package === 'string' && typeof evidence.functionName !== 'string') {
    return {
      summary: `Find what makes ${evidence.package} run on the event loop and move it off`,
      detail:
        `While the event loop of ${candidate.service} stalled, ${share} of the CPU time (${sampled}) went to ` +
        `functions of ${evidence.package}, none of them dominant alone. Look at what the app hands it: large ` +
        'inputs, synchronous options, work repeated per request that could be cached. Upgrading may help; ' +
        'otherwise call it from a worker thread.',
      code: workerCode(`require('${evidence.package}')`).join('\n'),
      language: 'javascript',
    };
  }
  const site = siteOf(evidence);
  const origin = isPlace(evidence.origin) ? evidence.origin : undefined;
  const leaf = isPlace(evidence.leaf) ? evidence.leaf : site;
  const callers = Array.isArray(evidence.callers) ? evidence.callers.filter(isPlace) : [];
  const frames = [leaf, site, ...callers];
  const slowSqlite = relatedFindings(evidence).filter((finding) => finding.kind === 'slow_query');
  const advice =
    slowSqlite.length > 0 ? sqliteAdvice(leaf, site, slowSqlite) : adviceFor(frames, site, origin);
  const path = [leaf, ...callers]
    .slice(0, 5)
    .map((frame) => at(frame))
    .join(' ← ');
  return {
    summary: advice.summary,
    detail:
      `While the event loop of ${candidate.service} stalled, ${share} of the CPU time (${sampled}) was spent in ` +
      `${at(site)}${origin ? `, called from ${at(origin)}` : ''}. Call path: ${path}. While it runs, every ` +
      `request, timer and reply in the process waits. ${advice.why}`,
    code: advice.code.join('\n'),
    language: 'javascript',
  };
}

function adviceFor(frames: Place[], site: Place, origin: Place | undefined): Advice {
  const where = origin ? ` in ${origin.functionName}` : '';
  const named = (test: (frame: Place) => boolean) => frames.find(test);
  const crypto = named((f) => CRYPTO_SYNC.test(f.functionName));
  if (crypto) {
    const asyncName = crypto.functionName.replace(/Sync$/, '');
    return {
      summary: `Use the asynchronous ${asyncName} instead of ${crypto.functionName}${where}`,
      why:
        `crypto.${asyncName} does the same work on libuv's thread pool (4 threads by default: raise ` +
        'UV_THREADPOOL_SIZE for many concurrent hashes), so the loop keeps serving.',
      code: [
        "const { promisify } = require('node:util');",
        `const ${asyncName} = promisify(require('node:crypto').${asyncName});`,
        `// instead of crypto.${crypto.functionName}(…), with the same arguments:`,
        `const result = await ${asyncName}(/* same arguments */);`,
      ],
    };
  }
  const bcrypt = named((f) => BCRYPT_SYNC.test(f.functionName) && /^bcrypt(js)?@/.test(f.package ?? ''));
  if (bcrypt) {
    const asyncName = bcrypt.functionName.replace(/Sync$/, '');
    return {
      summary: `Use bcrypt's asynchronous ${asyncName} instead of ${bcrypt.functionName}${where}`,
      why: 'The asynchronous form hashes on a thread of its own (native bcrypt) or in slices (bcryptjs).',
      code: [
        `// instead of bcrypt.${bcrypt.functionName}(…):`,
        `const result = await bcrypt.${asyncName}(/* same arguments */);`,
      ],
    };
  }
  const zlib = named((f) => ZLIB_SYNC.test(f.functionName));
  if (zlib) {
    const asyncName = zlib.functionName.replace(/Sync$/, '');
    return {
      summary: `Use the asynchronous zlib.${asyncName} (or a stream) instead of ${zlib.functionName}${where}`,
      why:
        'The asynchronous form compresses on the thread pool; for large bodies, pipe a stream through ' +
        'zlib instead of buffering it whole. Compressing the same payload on every request is worth caching.',
      code: [
        "const { promisify } = require('node:util');",
        `const ${asyncName} = promisify(require('node:zlib').${asyncName});`,
        `const output = await ${asyncName}(input); // instead of zlib.${zlib.functionName}(input)`,
      ],
    };
  }
  const fs = named((f) => /Sync$/.test(f.functionName) && /^node:(internal\/)?fs/.test(f.url));
  if (fs) {
    return {
      summary: `Use fs/promises instead of ${fs.functionName}${where}`,
      why:
        'Synchronous file calls wait for the disk on the loop. Read what never changes once at start-up; ' +
        'read the rest with the promise API.',
      code: [
        "const { readFile } = require('node:fs/promises');",
        `// instead of fs.${fs.functionName}(path, …):`,
        "const text = await readFile(path, 'utf8');",
      ],
    };
  }
  const json = named(
    (f) =>
      (JSON_CALLS.has(f.functionName) && f.url === '') ||
      JSON_PACKAGES.test((f.package ?? '').replace(/@[^@]*$/, '')),
  );
  if (json) {
    return {
      summary: `Stop parsing or serialising large JSON in one piece${where || ` in ${site.functionName}`}`,
      why:
        'JSON.parse and JSON.stringify cannot yield: their time grows with the payload. Send less (paginate, ' +
        'select fields), stream large arrays one item at a time, parse large inputs with a streaming parser ' +
        '(stream-json), or serialise with a schema (fast-json-stringify). Cache payloads that repeat.',
      code: [
        "const { once } = require('node:events');",
        '// Stream a large array as NDJSON instead of JSON.stringify-ing it whole:',
        "res.writeHead(200, { 'content-type': 'application/x-ndjson' });",
        'for (const item of items) {',
        "  if (!res.write(JSON.stringify(item) + '\\n')) await once(res, 'drain');",
        '}',
        'res.end();',
      ],
    };
  }
  const regex = named((f) => REGEX_CALLS.has(f.functionName) && f.url === '');
  if (regex) {
    return {
      summary: `Check the regular expression ${regex.functionName} runs${where || ` in ${site.functionName}`}`,
      why:
        'A regular expression with nested or overlapping quantifiers backtracks exponentially on some ' +
        'inputs. Bound the input length, rewrite the pattern without nested quantifiers, or use re2, ' +
        'whose matching time is linear in the input.',
      code: [
        "const RE2 = require('re2');",
        '// same pattern, linear-time matching:',
        'const pattern = new RE2(/your pattern/);',
        'if (input.length > 10_000 || !pattern.test(input)) throw new Error("invalid input");',
      ],
    };
  }
  return {
    summary: `Move ${site.functionName} off the event loop`,
    why:
      'It is CPU-bound JavaScript. Run it in a worker thread (a piscina pool keeps the workers warm), or ' +
      'split the work into chunks that yield to the loop with setImmediate; if it recomputes the same ' +
      'result for the same input, cache it.',
    code: [
      ...workerCode(`require('./${site.url.split('/').pop() || 'module.js'}').${site.functionName}`),
      '',
      '// Or yield to the event loop between chunks:',
      'for (let i = 0; i < items.length; i++) {',
      '  work(items[i]);',
      '  if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));',
      '}',
    ],
  };
}

/**
 * The samples landed in a synchronous better-sqlite3 call (detect/related.ts linked the
 * service's slow SQLite queries): the query itself is the CPU, so the fix is the query's.
 */
function sqliteAdvice(leaf: Place, site: Place, queries: RelatedFinding[]): Advice {
  return {
    summary: `Make the SQLite query in ${site.functionName} cheaper: better-sqlite3 runs it on the event loop`,
    why:
      `better-sqlite3 is synchronous: while ${leaf.functionName}() reads rows, the process serves nothing ` +
      `else. The query's own finding has its plan and the index to add: ${queries.map((q) => `“${q.title}”`).join(', ')}. ` +
      'If it still takes more than a few milliseconds, give it a worker thread with its own connection ' +
      '(WAL mode lets readers run beside the writer).',
    code: [
      '// db-worker.js: its own connection, read-only, in a worker thread',
      "const Database = require('better-sqlite3');",
      'const db = new Database(process.env.DB_PATH, { readonly: true });',
      'const statement = db.prepare(/* the slow query */);',
      'module.exports = (params) => statement.all(params);',
      '',
      '// where it was called:',
      "const Piscina = require('piscina');",
      "const queries = new Piscina({ filename: require.resolve('./db-worker.js') });",
      'const rows = await queries.run(params);',
    ],
  };
}

/** A piscina pool running the hot function in worker threads. */
function workerCode(hot: string): string[] {
  return [
    '// worker.js: the CPU-heavy function, run in a worker thread',
    `module.exports = (input) => ${hot}(input);`,
    '',
    '// where it was called:',
    "const Piscina = require('piscina');",
    "const pool = new Piscina({ filename: require.resolve('./worker.js') });",
    'const result = await pool.run(input);',
  ];
}

function at(frame: Place): string {
  return frame.url ? `${frame.functionName} (${frame.url}:${frame.line})` : frame.functionName;
}

/** The hot spot's own frame, spread into the evidence's top level. */
function siteOf(evidence: Record<string, unknown>): Place {
  return {
    functionName: String(evidence.functionName ?? '(anonymous)'),
    url: typeof evidence.url === 'string' ? evidence.url : '',
    line: Number(evidence.line ?? 0),
    package: typeof evidence.package === 'string' ? evidence.package : undefined,
  };
}

function isPlace(value: unknown): value is Place {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Place).functionName === 'string' &&
    typeof (value as Place).url === 'string'
  );
}
