import { describe, expect, it } from 'vitest';
import { ServiceVersions } from '../../../collector/aggregate/versions.js';

describe('ServiceVersions', () => {
  it('takes a version never seen before as current, per service', () => {
    const versions = new ServiceVersions();
    versions.note('shop', '1.0.0');
    versions.note('billing', '7.1.0');
    versions.note('shop', '1.1.0');
    expect(versions.of('shop')).toBe('1.1.0');
    expect(versions.of('billing')).toBe('7.1.0');
    expect(versions.of('search')).toBeUndefined();
  });

  it('does not flip back to an old version still reporting during a rolling deploy', () => {
    const versions = new ServiceVersions();
    versions.note('shop', '1.0.0');
    versions.note('shop', '1.1.0');
    versions.note('shop', '1.0.0');
    versions.note('shop', undefined);
    expect(versions.of('shop')).toBe('1.1.0');
  });
});
