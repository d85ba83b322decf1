/** The normalise stage: span records in, scrubbed typed operations out. */
export { normalizeSpan } from './normalize-span.js';
export { keyPattern, parseRedisStatement, type RedisStatement } from './redis-key.js';
export { scrubSpanName } from './span-name.js';
export { fingerprintId, fingerprintSql, type SqlDialect, type SqlFingerprint } from './sql-fingerprint.js';
export { hostOf, hostWithPort, templatePath } from './url-template.js';
