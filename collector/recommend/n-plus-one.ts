/** The fix for an n_plus_one: one batched statement instead of one per row. */
import type { FindingCandidate, Recommendation } from '../../model/index.js';
import { LruCache } from '../normalize/lru-cache.js';
import { predicateShape } from './sql-shape.js';

/** All the advice is made from: nothing else of the candidate is read. */
interface NPlusOneInputs {
  fingerprint: string;
  system: string;
  statementType: string;
  /** Average repeats per request, rounded. */
  repeats: number;
  /** The first table the statement names, if any. */
  table: string | undefined;
}

/**
 * Advice made so far, by fingerprint, with the inputs it was made from: each detection run
 * recommends every N+1 candidate of the window again (a thousand in the ingest bench), and
 * their inputs rarely change between runs. Kept advice is given only when all five inputs are
 * the same as it was made from; it is shared, never changed.
 */
const advice = new LruCache<string, { inputs: NPlusOneInputs; recommendation: Recommendation }>(4_096);

export function recommendNPlusOne(candidate: FindingCandidate): Recommendation {
  const { evidence } = candidate;
  const tables = Array.isArray(evidence.tables) ? (evidence.tables as string[]) : [];
  const inputs: NPlusOneInputs = {
    fingerprint: String(evidence.fingerprint ?? ''),
    system: String(evidence.system ?? ''),
    statementType: String(evidence.statementType ?? ''),
    repeats: Math.round(Number(evidence.avgRepeats ?? 0)),
    table: tables[0],
  };
  const kept = advice.get(inputs.fingerprint);
  if (kept && sameInputs(kept.inputs, inputs)) return kept.recommendation;
  const recommendation = adviceFor(inputs);
  advice.set(inputs.fingerprint, { inputs, recommendation });
  return recommendation;
}

function sameInputs(a: NPlusOneInputs, b: NPlusOneInputs): boolean {
  return (
    a.fingerprint === b.fingerprint &&
    a.system === b.system &&
    a.statementType === b.statementType &&
    a.repeats === b.repeats &&
    a.table === b.table
  );
}

function adviceFor({ fingerprint, system, statementType, repeats, table }: NPlusOneInputs): Recommendation {
  const column = predicateShape(fingerprint).equality[0]?.column;
  if (statementType === 'select' && column) {
    const batched = batchedSelect(fingerprint, column, system);
    return {
      summary: `Load all rows in one query: ${column} IN (…) instead of ${repeats} queries`,
      detail:
        `Each request runs this SELECT once per ${column} (${repeats}× on average). Collect the ${column} values ` +
        'first, fetch them in one statement, and group the rows in memory. With an ORM, eager-load the ' +
        'relation (include/with/join); in GraphQL resolvers, batch with DataLoader.',
      code: `-- one query for all ${column} values\n${batched}\n\n${batchedJavaScript(batched, column, system, table)}`,
      language: 'javascript',
    };
  }
  if (statementType === 'insert') {
    return {
      summary: `Insert the ${repeats} rows in one statement`,
      detail:
        'Each request inserts rows one statement at a time. Use a multi-row INSERT (VALUES (…), (…)) or ' +
        'your driver’s bulk API inside one transaction.',
      code: fingerprint,
      language: 'sql',
    };
  }
  return {
    summary: `Batch the ${repeats} repeated statements into one`,
    detail:
      'The same statement runs many times for one request. Fetch or change all rows in one set-based ' +
      'statement (IN list, JOIN, or UPDATE … WHERE id IN (…)) and loop in memory instead.',
    code: fingerprint,
    language: 'sql',
  };
}

function batchedSelect(fingerprint: string, column: string, system: string): string {
  const list = system === 'postgresql' ? '= any(?)' : 'in (?)';
  const pattern = new RegExp(
    String.raw`((?:[a-z_][a-z0-9_$]*\.)?["\x60]?${column}["\x60]?\s*)(?:=\s*\?|in\s*\([^)]*\))`,
    'i',
  );
  return fingerprint.replace(pattern, `$1${list}`);
}

/** The driver call for the batched statement, in the style of the system's usual Node driver. */
function batchedJavaScript(batched: string, column: string, system: string, table = 'row'): string {
  // Looking rows up by their own id means the parent holds a foreign key (`user_id` for `users`).
  const parentKey = column === 'id' ? `${table.replace(/s$/, '')}_id` : 'id';
  const collect = `const ids = parents.map((parent) => parent.${parentKey});`;
  // A Map seeded with every id (parents without rows get []); Map.groupBy needs Node 21+.
  const byKey = `rowsBy${pascal(column)}`;
  const group = `const ${byKey} = new Map(ids.map((id) => [id, []]));\nfor (const row of rows) ${byKey}.get(row.${column})?.push(row);`;
  if (system === 'postgresql') {
    return `// node-postgres\n${collect}\nconst { rows } = await pool.query('${batched.replace('?', '$1')}', [ids]);\n${group}`;
  }
  // The placeholder list is JavaScript for the user to paste, not a template of ours.
  const inList = ['$', "{ids.map(() => '?').join(', ')}"].join('');
  const statement = batched.replace('(?)', `(${inList})`);
  const call = system === 'sqlite' ? 'db.prepare(sql).all(...ids)' : '(await connection.query(sql, ids))[0]';
  return `${collect}\nconst sql = \`${statement}\`;\nconst rows = ${call};\n${group}`;
}

function pascal(name: string): string {
  return name.replace(/(^|_)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}
