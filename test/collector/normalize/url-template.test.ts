import { describe, expect, it } from 'vitest';
import { hostOf, hostWithPort, templatePath } from '../../../collector/normalize/url-template.js';

describe('templatePath', () => {
  it.each([
    ['/users/42', '/users/{id}'],
    ['/users/42/orders/7', '/users/{id}/orders/{id}'],
    ['/orders/7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6', '/orders/{uuid}'],
    ['/orders/7F3C9A0E-1B2D-4C5E-8F90-A1B2C3D4E5F6/items', '/orders/{uuid}/items'],
    ['/blobs/5f2b8c1d9e0a', '/blobs/{hash}'],
    ['/commits/da39a3ee5e6b4b0d3255bfef95601890afd80709', '/commits/{hash}'],
    ['/objects/507f1f77bcf86cd799439011', '/objects/{hash}'],
    ['/reset/AbC123xYz789QwE456rTy0', '/reset/{hash}'],
    ['/invite/dGhpcyBpcyBhIHRva2VuMTIz', '/invite/{hash}'],
    ['/users/ann.smith@example.com/settings', '/users/{email}/settings'],
    ['/users/ann.smith%40example.com', '/users/{email}'],
    ['/reports/2024-03-15', '/reports/{date}'],
    ['/events/2024-03-15T10:00:00Z', '/events/{date}'],
    ['/invoices/12345.pdf', '/invoices/{id}.pdf'],
    ['/avatars/5f2b8c1d9e0a7b6c.png', '/avatars/{hash}.png'],
  ])('%s → %s', (path, template) => {
    expect(templatePath(path)).toBe(template);
  });

  it.each([
    '/api/v1/users',
    '/api/v2/orders/search',
    '/health',
    '/',
    '/quarterly-report-summary-2024',
    '/users/:id',
    '/users/{id}',
    '/static/app.min.js',
    '/cafe/deadbeef',
  ])('keeps the static path %s', (path) => {
    expect(templatePath(path)).toBe(path);
  });

  it('drops the query string, the fragment and ;params', () => {
    expect(templatePath('/search?q=ann%40example.com&page=2')).toBe('/search');
    expect(templatePath('/docs/intro#install')).toBe('/docs/intro');
    expect(templatePath('/cart;jsessionid=A1B2C3D4E5F6/items/3')).toBe('/cart/items/{id}');
    expect(templatePath('?only=query')).toBe('/');
  });

  it('reduces an absolute URL to its path', () => {
    expect(templatePath('https://api.example.com:8443/users/42?token=abc')).toBe('/users/{id}');
    expect(templatePath('https://api.example.com')).toBe('/');
    // A URL inside a path is not the request's own URL: its host stays a static segment.
    expect(templatePath('/redirect/to/https://example.com/42')).toBe('/redirect/to/https://example.com/{id}');
  });

  it('does not throw on malformed percent-encoding, and keeps static segments as spelled', () => {
    expect(templatePath('/files/%E0%A4%A/42')).toBe('/files/%E0%A4%A/{id}');
    expect(templatePath('/caf%C3%A9/menu')).toBe('/caf%C3%A9/menu');
    expect(templatePath('/a%2Fb/7')).toBe('/a%2Fb/{id}');
  });

  it('is idempotent', () => {
    const once = templatePath('/users/42/orders/7f3c9a0e-1b2d-4c5e-8f90-a1b2c3d4e5f6/x@y.io?z=1');
    expect(templatePath(once)).toBe(once);
  });
});

describe('hostOf', () => {
  it.each([
    ['https://api.example.com/v1/users', 'api.example.com'],
    ['https://user:secret@API.Example.com:443/v1?x=1', 'api.example.com'],
    ['http://localhost:8080/health', 'localhost:8080'],
    ['http://localhost:80/health', 'localhost'],
    ['https://example.com:80/', 'example.com:80'],
    ['http://[::1]:3000/x', '[::1]:3000'],
    ['http://[::1]/x', '[::1]'],
    ['//cdn.example.com/lib.js', 'cdn.example.com'],
    ['https://example.com?x=1', 'example.com'],
    ['/just/a/path', ''],
    ['/a//b', ''],
    ['', ''],
  ])('%s → %s', (url, host) => {
    expect(hostOf(url)).toBe(host);
  });

  it('never returns credentials', () => {
    expect(hostOf('https://admin:hunter2@db.internal:5432/x')).toBe('db.internal:5432');
  });
});

describe('hostWithPort', () => {
  it('lowercases and leaves out the default ports', () => {
    expect(hostWithPort('API.example.com', 443)).toBe('api.example.com');
    expect(hostWithPort('api.example.com', 80)).toBe('api.example.com');
    expect(hostWithPort('api.example.com', 8443)).toBe('api.example.com:8443');
    expect(hostWithPort('api.example.com', undefined)).toBe('api.example.com');
  });
});
