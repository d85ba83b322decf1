/**
 * Library: a tiny HTTP API on better-sqlite3, the app under test in the `chokepoint check`
 * example. Its bottlenecks are planted, and each can be switched:
 *
 * - `GET /authors` lists every author with their books. By default it runs one books query per
 *   author (an N+1); `{ batchBooks: true }` loads all the books in one `IN (…)` query instead.
 * - `GET /books/series` (only with `{ series: true }`, the "new feature") finds titles that
 *   appear inside other titles with a LIKE join: every book against every book, a slow query.
 *
 * @example
 * const library = createLibrary({ batchBooks: true });
 * const url = await library.listen();
 * await library.close();
 */

const { createServer } = require('node:http');
const Database = require('better-sqlite3');

const AUTHORS = 8;
const BOOKS = 2000;

const SCHEMA = `
  CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE books (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    title TEXT NOT NULL
  );
  CREATE INDEX books_author_id ON books (author_id);
`;

/** Generated in SQLite, one statement per table: a row-by-row loop would trace a span per row. */
const SEED = `
  WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${AUTHORS})
  INSERT INTO authors (id, name) SELECT n, 'Author ' || n FROM seq;
  WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${BOOKS})
  INSERT INTO books (id, author_id, title) SELECT n, 1 + n % ${AUTHORS}, 'Volume ' || n FROM seq;
`;

function createLibrary({ batchBooks = false, series = false } = {}) {
  const db = new Database(':memory:');
  db.exec(SCHEMA);
  db.exec(SEED);
  const listAuthors = db.prepare('SELECT id, name FROM authors ORDER BY id');
  const booksOfAuthor = db.prepare('SELECT id, title FROM books WHERE author_id = ? ORDER BY id');
  const seriesTitles = db.prepare(
    `SELECT a.title, count(*) AS editions
     FROM books a JOIN books b ON b.id <> a.id AND b.title LIKE '%' || a.title || '%'
     GROUP BY a.title ORDER BY editions DESC, a.title LIMIT 10`,
  );

  function authorsWithBooks() {
    const authors = listAuthors.all();
    if (!batchBooks) {
      // The planted N+1: one query per author.
      return authors.map((author) => ({ ...author, books: booksOfAuthor.all(author.id) }));
    }
    const ids = authors.map((author) => author.id);
    const rows = db
      .prepare(
        `SELECT id, author_id, title FROM books WHERE author_id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`,
      )
      .all(...ids);
    const byAuthor = new Map(authors.map((author) => [author.id, []]));
    for (const { id, author_id, title } of rows) byAuthor.get(author_id).push({ id, title });
    return authors.map((author) => ({ ...author, books: byAuthor.get(author.id) }));
  }

  const routes = new Map([['/authors', authorsWithBooks]]);
  if (series) routes.set('/books/series', () => seriesTitles.all());

  const server = createServer((request, response) => {
    const handler =
      request.method === 'GET' ? routes.get(new URL(request.url, 'http://x').pathname) : undefined;
    response.writeHead(handler ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(handler ? handler() : { error: 'no such route' }));
  });

  return {
    /** Listens on a free port of 127.0.0.1 and resolves with the base URL. */
    listen: () =>
      new Promise((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)),
      ),
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

module.exports = { createLibrary, AUTHORS, BOOKS };
