import { describe, expect, it } from 'vitest';
import { variablePlaceholder } from '../../../collector/normalize/variable-part.js';

describe('variablePlaceholder', () => {
  it.each([
    ['0', '{id}'],
    ['1234567890123', '{id}'],
    ['123e4567-e89b-12d3-a456-426614174000', '{uuid}'],
    ['2024-02-29', '{date}'],
    ['2024-02-29T23:59:59.999Z', '{date}'],
    ['2024-02-29 23:59', '{date}'],
    ['a@b.co', '{email}'],
    ['first.last+tag@sub.example.org', '{email}'],
    ['abcdef012345', '{hash}'],
    ['ABCDEF0123456789', '{hash}'],
    ['eyJhbGciOiJIUzI1NiJ9abc', '{hash}'],
    ['dGVzdA_-dGVzdA12345678', '{hash}'],
    [
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      '{hash}',
    ],
    ['eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.', '{hash}'],
  ])('%s → %s', (part, placeholder) => {
    expect(variablePlaceholder(part)).toBe(placeholder);
  });

  it.each([
    '',
    'users',
    'v2',
    'deadbeef',
    'abcdef01234',
    '2024-02-30x',
    'a@b',
    '@scope',
    'x@y.',
    'a@b@c.com',
    'quarterly-report-summary-2024',
    'averyveryverylongwordwithoutdigits',
    'eyJustAWordWithoutDots',
    'www.example.com.cdn.net',
    '123e4567-e89b-12d3-a456-42661417400g',
  ])('%j stays static', (part) => {
    expect(variablePlaceholder(part)).toBeUndefined();
  });
});
