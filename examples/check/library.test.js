/**
 * The example's test suite (node:test), the command `chokepoint check` runs:
 *
 *   npx chokepoint check -- npm test
 *
 * Environment switches pick the variant of the app under test (see library.js):
 * LIBRARY_BATCH_BOOKS=1 fixes the N+1, LIBRARY_SERIES=1 adds the endpoint with a slow query.
 */

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { AUTHORS, BOOKS, createLibrary } = require('./library.js');

const batchBooks = process.env.LIBRARY_BATCH_BOOKS === '1';
const series = process.env.LIBRARY_SERIES === '1';

let library;
let url;

before(async () => {
  library = createLibrary({ batchBooks, series });
  url = await library.listen();
});

after(() => library.close());

test('GET /authors lists every author with their books', async () => {
  for (let request = 0; request < 3; request++) {
    const response = await fetch(`${url}/authors`);
    assert.equal(response.status, 200);
    const authors = await response.json();
    assert.equal(authors.length, AUTHORS);
    assert.equal(
      authors.reduce((books, author) => books + author.books.length, 0),
      BOOKS,
    );
    assert.ok(authors.every((author) => author.books.length > 0));
  }
});

test('GET /books/series ranks titles found inside other titles', {
  skip: !series && 'LIBRARY_SERIES is off',
}, async () => {
  for (let request = 0; request < 3; request++) {
    const response = await fetch(`${url}/books/series`);
    assert.equal(response.status, 200);
    const titles = await response.json();
    assert.equal(titles.length, 10);
    assert.ok(titles[0].editions >= titles[9].editions);
  }
});
