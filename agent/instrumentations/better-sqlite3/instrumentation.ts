/**
 * OpenTelemetry instrumentation for better-sqlite3 (no upstream one exists).
 *
 * `Database.prototype.exec` and the statement methods `run`, `get`, `all` and `iterate`
 * become CLIENT spans named `<operation> <db.namespace>`. `Database.prototype.prepare`
 * becomes a short CLIENT span marked `chokepoint.db.prepare=true`: its time counts, but it
 * is not a query execution. Statements are native objects whose prototype is not exported:
 * it is reached through the first statement prepared, patched once, and unpatched with the
 * module.
 *
 * better-sqlite3 is synchronous, so nothing runs "inside" a span and no context is
 * switched. Span name and attributes are computed once per statement. Statement runs are
 * announced to the explain processor (agent/explain/), which plans the slow ones, as their
 * span ends: the processor takes the call then, and keeps nothing per span meanwhile.
 */
import { diag, type Span, SpanKind } from '@opentelemetry/api';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  safeExecuteInTheMiddle,
} from '@opentelemetry/instrumentation';
import { ChokepointAttributes } from '../../../model/attributes.js';
import { announceCall, withdrawCall } from '../../explain/calls.js';
import { sqliteDriver } from '../../explain/sqlite.js';
import { AGENT_NAME, AGENT_VERSION } from '../../version.js';
import { ATTR_DB_RESPONSE_RETURNED_ROWS } from '../semconv.js';
import type {
  BetterSqlite3InstrumentationConfig,
  BetterSqlite3Method,
  SqliteDatabase,
  SqliteStatement,
} from './types.js';
import {
  applyTraced,
  databaseNamespace,
  describeQuery,
  endSpanWithError,
  type QueryDescription,
} from './utils.js';

const MODULE_NAME = 'better-sqlite3';
const SUPPORTED_VERSIONS = ['>=9 <13'];

type StatementMethod = Extract<BetterSqlite3Method, 'run' | 'get' | 'all' | 'iterate'>;
const STATEMENT_METHODS: readonly StatementMethod[] = ['run', 'get', 'all', 'iterate'];

type SqlCall<This, Result> = (this: This, ...args: unknown[]) => Result;

interface DatabasePrototype extends SqliteDatabase {
  exec: SqlCall<SqliteDatabase, unknown>;
  prepare: SqlCall<SqliteDatabase, SqliteStatement>;
}

interface DatabaseModule {
  prototype: DatabasePrototype;
}

type StatementPrototype = Record<StatementMethod, SqlCall<SqliteStatement, unknown>>;

/** A statement run, as the explain processor plans it. */
interface StatementCall {
  statement: SqliteStatement;
  args: unknown[];
}

/** What `import Database from 'better-sqlite3'` hands over under the ESM hook: the CJS exports as `default`. */
type ModuleExports = DatabaseModule | { [Symbol.toStringTag]: 'Module'; default: DatabaseModule };

function databaseClass(moduleExports: ModuleExports): DatabaseModule {
  return 'default' in moduleExports ? moduleExports.default : moduleExports;
}

/**
 * Traces better-sqlite3 queries.
 *
 * @example
 * new NodeSDK({ instrumentations: [new BetterSqlite3Instrumentation({ responseHook: (span, info) => … })] });
 */
export class BetterSqlite3Instrumentation extends InstrumentationBase<BetterSqlite3InstrumentationConfig> {
  /** Statement prototypes patched so far (one per native addon loaded, in practice one). */
  private readonly _statementPrototypes = new Set<StatementPrototype>();
  private readonly _statementQueries = new WeakMap<SqliteStatement, QueryDescription>();
  private readonly _namespaces = new WeakMap<SqliteDatabase, string>();

  constructor(config: BetterSqlite3InstrumentationConfig = {}) {
    super(`${AGENT_NAME}/instrumentation-${MODULE_NAME}`, AGENT_VERSION, config);
  }

  protected override init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      MODULE_NAME,
      SUPPORTED_VERSIONS,
      (moduleExports: ModuleExports) => {
        const { prototype } = databaseClass(moduleExports);
        if (isWrapped(prototype.exec)) this._unwrap(prototype, 'exec');
        this._wrap(prototype, 'exec', this._patchExec());
        if (isWrapped(prototype.prepare)) this._unwrap(prototype, 'prepare');
        this._wrap(prototype, 'prepare', this._patchPrepare());
        return moduleExports;
      },
      (moduleExports: ModuleExports) => {
        const { prototype } = databaseClass(moduleExports);
        this._unwrap(prototype, 'exec');
        this._unwrap(prototype, 'prepare');
        for (const statementPrototype of this._statementPrototypes) {
          for (const method of STATEMENT_METHODS) this._unwrap(statementPrototype, method);
        }
        this._statementPrototypes.clear();
      },
    );
  }

  private _patchExec() {
    const instrumentation = this;
    return (original: DatabasePrototype['exec']) =>
      function exec(this: SqliteDatabase, ...args: unknown[]): unknown {
        const [query] = args;
        // Not a string: better-sqlite3 throws its own TypeError, which is not a query.
        if (typeof query !== 'string') return original.apply(this, args);
        const { spanName, attributes } = describeQuery(query, instrumentation._namespace(this));
        const span = instrumentation._startSpan('exec', query, spanName, attributes);
        const result = applyTraced(span, original, this, args);
        instrumentation._endSpan(span, 'exec', query, result);
        return result;
      };
  }

  private _patchPrepare() {
    const instrumentation = this;
    return (original: DatabasePrototype['prepare']) =>
      function prepare(this: SqliteDatabase, ...args: unknown[]): SqliteStatement {
        const [query] = args;
        if (typeof query !== 'string') return original.apply(this, args);
        const description = describeQuery(query, instrumentation._namespace(this));
        const span = instrumentation._startSpan('prepare', query, `prepare ${description.spanName}`, {
          ...description.attributes,
          [ChokepointAttributes.DB_PREPARE]: true,
        });
        const statement = applyTraced(span, original, this, args);
        instrumentation._patchStatementPrototype(Object.getPrototypeOf(statement));
        instrumentation._statementQueries.set(statement, description);
        instrumentation._endSpan(span, 'prepare', query, statement);
        return statement;
      };
  }

  private _patchStatementPrototype(prototype: StatementPrototype): void {
    if (this._statementPrototypes.has(prototype)) return;
    this._statementPrototypes.add(prototype);
    for (const method of STATEMENT_METHODS) {
      // Left over by another instance of this instrumentation: replace, never stack.
      if (isWrapped(prototype[method])) this._unwrap(prototype, method);
      this._wrap(prototype, method, this._patchStatementMethod(method));
    }
  }

  private _patchStatementMethod(method: StatementMethod) {
    const instrumentation = this;
    return (original: SqlCall<SqliteStatement, unknown>) =>
      function statementMethod(this: SqliteStatement, ...args: unknown[]): unknown {
        const { spanName, attributes } = instrumentation._statementQuery(this);
        const query = this.source;
        const span = instrumentation._startSpan(method, query, spanName, attributes);
        const result = applyTraced(span, original, this, args);
        if (method === 'iterate') {
          const call = { statement: this, args };
          return new TracedIterator(
            result as Iterator<unknown>,
            span,
            query,
            call,
            instrumentation._endIteration,
          );
        }
        if (method === 'all') span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, (result as unknown[]).length);
        if (method === 'get') span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, result === undefined ? 0 : 1);
        instrumentation._endSpan(span, method, query, result, this, args);
        return result;
      };
  }

  /** Statements prepared before the instrumentation (or by better-sqlite3 itself) are described on first use. */
  private _statementQuery(statement: SqliteStatement): QueryDescription {
    let description = this._statementQueries.get(statement);
    if (description === undefined) {
      description = describeQuery(statement.source, this._namespace(statement.database));
      this._statementQueries.set(statement, description);
    }
    return description;
  }

  private _namespace(database: SqliteDatabase): string {
    let namespace = this._namespaces.get(database);
    if (namespace === undefined) {
      namespace = databaseNamespace(database);
      this._namespaces.set(database, namespace);
    }
    return namespace;
  }

  private _startSpan(
    method: BetterSqlite3Method,
    query: string,
    spanName: string,
    attributes: QueryDescription['attributes'],
  ): Span {
    const span = this.tracer.startSpan(spanName, { kind: SpanKind.CLIENT, attributes });
    const { requestHook } = this.getConfig();
    if (requestHook) {
      safeExecuteInTheMiddle(
        () => requestHook(span, { method, query }),
        (error) => error && diag.error(`${MODULE_NAME} instrumentation: requestHook failed`, error),
        true,
      );
    }
    return span;
  }

  /** Ends the span; a statement run's call (`statement`, `args`) is announced to the explain processor as it does. */
  private _endSpan(
    span: Span,
    method: BetterSqlite3Method,
    query: string,
    result: unknown,
    statement?: SqliteStatement,
    args?: unknown[],
  ): void {
    const { responseHook } = this.getConfig();
    if (responseHook) {
      safeExecuteInTheMiddle(
        () => responseHook(span, { method, query, result }),
        (error) => error && diag.error(`${MODULE_NAME} instrumentation: responseHook failed`, error),
        true,
      );
    }
    if (statement === undefined || args === undefined) {
      span.end();
      return;
    }
    announceCall(sqliteDriver, statement, args);
    span.end();
    withdrawCall();
  }

  private readonly _endIteration = (span: Span, query: string, rows: number, call: StatementCall): void => {
    span.setAttribute(ATTR_DB_RESPONSE_RETURNED_ROWS, rows);
    this._endSpan(span, 'iterate', query, rows, call.statement, call.args);
  };
}

/**
 * The iterator `Statement.prototype.iterate` returns, ending its span when iteration
 * finishes, is stopped (`return`, as `break` in `for…of` does) or throws.
 */
class TracedIterator implements IterableIterator<unknown> {
  private rows = 0;
  private open = true;

  constructor(
    private readonly iterator: Iterator<unknown>,
    private readonly span: Span,
    private readonly query: string,
    private readonly call: StatementCall,
    private readonly onEnd: (span: Span, query: string, rows: number, call: StatementCall) => void,
  ) {}

  next(): IteratorResult<unknown> {
    let step: IteratorResult<unknown>;
    try {
      step = this.iterator.next();
    } catch (error) {
      if (this.open) {
        this.open = false;
        endSpanWithError(this.span, error);
      }
      throw error;
    }
    if (step.done) this.end();
    else this.rows++;
    return step;
  }

  return(value?: unknown): IteratorResult<unknown> {
    const step = this.iterator.return?.(value) ?? { done: true, value };
    this.end();
    return step;
  }

  [Symbol.iterator](): IterableIterator<unknown> {
    return this;
  }

  private end(): void {
    if (!this.open) return;
    this.open = false;
    this.onEnd(this.span, this.query, this.rows, this.call);
  }
}
