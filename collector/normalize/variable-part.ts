/**
 * Recognises the variable parts of paths, keys and names — ids, UUIDs, hashes,
 * tokens, emails, dates — so that callers can fold them into placeholders.
 * Character loops only: these run on untrusted text for every span, where a
 * backtracking regular expression could be made to take quadratic time.
 */

/** Placeholders a variable part folds into. */
export const Placeholder = {
  ID: '{id}',
  UUID: '{uuid}',
  HASH: '{hash}',
  EMAIL: '{email}',
  DATE: '{date}',
} as const;

/** Hex digests shorter than this are too likely to be words (`cafe`, `deadbeef`). */
const MIN_HEX_LENGTH = 12;
/** Base64/base62 tokens shorter than this are too likely to be names (`v2`, `utf8mb4`). */
const MIN_TOKEN_LENGTH = 20;

/**
 * The placeholder a part folds into, or `undefined` when it looks static.
 *
 * @example
 * variablePlaceholder('42'); // '{id}'
 * variablePlaceholder('profile'); // undefined
 */
export function variablePlaceholder(part: string): string | undefined {
  const length = part.length;
  if (length === 0) return undefined;
  if (isDigits(part)) return Placeholder.ID;
  if (length === 36 && isUuidAt(part, 0)) return Placeholder.UUID;
  if (isDate(part)) return Placeholder.DATE;
  if (isEmail(part)) return Placeholder.EMAIL;
  if (length >= MIN_HEX_LENGTH && isHex(part)) return Placeholder.HASH;
  if (length >= MIN_TOKEN_LENGTH && (isToken(part) || isJwt(part))) return Placeholder.HASH;
  return undefined;
}

function isDigitCode(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetterCode(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isHexCode(code: number): boolean {
  return isDigitCode(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigitCode(text.charCodeAt(i))) return false;
  return true;
}

function isHex(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isHexCode(text.charCodeAt(i))) return false;
  return true;
}

/** True when 8-4-4-4-12 hex digits start at `start`. */
export function isUuidAt(text: string, start: number): boolean {
  if (text.length - start < 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = text.charCodeAt(start + i);
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if (dash ? code !== 45 : !isHexCode(code)) return false;
  }
  return true;
}

/** `YYYY-MM-DD`, optionally followed by a time (`T12:00:00Z`, ` 12:00`). */
function isDate(text: string): boolean {
  if (text.length < 10) return false;
  for (let i = 0; i < 10; i++) {
    const code = text.charCodeAt(i);
    if (i === 4 || i === 7 ? code !== 45 : !isDigitCode(code)) return false;
  }
  if (text.length === 10) return true;
  const separator = text.charCodeAt(10);
  return (separator === 84 || separator === 116 || separator === 32) && isDigitCode(text.charCodeAt(11));
}

/** One `@` with something before it, and a dot inside the domain after it. */
function isEmail(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0 || text.indexOf('@', at + 1) !== -1) return false;
  const dot = text.indexOf('.', at + 2);
  if (dot === -1 || dot === text.length - 1) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 32 || code === 47 || code === 58) return false;
  }
  return true;
}

/**
 * A JSON Web Token (JWS or JWE compact form): base64url segments joined by dots, the first
 * encoding a JSON object (`eyJ` is `{"`). A bearer credential, so never kept — not even the
 * segment after a `_` that the minor separators of a key would otherwise split off.
 */
function isJwt(text: string): boolean {
  if (!text.startsWith('eyJ')) return false;
  let dots = 0;
  for (let i = 3; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46) dots++;
    else if (!isDigitCode(code) && !isLetterCode(code) && code !== 45 && code !== 95) return false;
  }
  return dots >= 2;
}

/**
 * A base64/base62/base64url token: letters and digits both present, and few `-`/`_`
 * (random base64url has one in ~32 characters, a slug like `quarterly-report-2024` one in ~6).
 */
function isToken(text: string): boolean {
  let digits = 0;
  let letters = 0;
  let separators = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isDigitCode(code)) digits++;
    else if (isLetterCode(code)) letters++;
    else if (code === 45 || code === 95) separators++;
    else if (code !== 43 && code !== 61) return false;
  }
  return digits > 0 && letters > 0 && separators * 10 <= text.length;
}
