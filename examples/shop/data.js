/**
 * The shop's data set: sizes and deterministic generators, shared by the seeder (which writes
 * these rows) and the load generator (which asks for them), so neither has to ask the other.
 */
'use strict';

/**
 * Row counts. The orders × items volume is what makes the planted slow query slow (≥ 100 ms on a
 * 2-core machine) while the whole seed stays around a second and a half.
 */
const SIZES = Object.freeze({ customers: 20_000, products: 2_000, orders: 250_000, itemsPerOrder: 3 });

const FIRST_NAMES = [
  'olivia',
  'liam',
  'emma',
  'noah',
  'ava',
  'lucas',
  'mia',
  'leo',
  'zoe',
  'hugo',
  'ines',
  'jules',
];
const LAST_NAMES = ['martin', 'bernard', 'dubois', 'garcia', 'nguyen', 'kowalski', 'rossi', 'meyer', 'silva'];
const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'NL', 'PL', 'PT', 'BE'];
const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Eco',
  'Pro',
  'Smart',
  'Travel',
  'Vintage',
  'Wireless',
  'Ultra',
];
const NOUNS = [
  'Backpack',
  'Blender',
  'Desk Lamp',
  'Headphones',
  'Kettle',
  'Mug',
  'Notebook',
  'Speaker',
  'Sneakers',
];

/** Customer `n` (1-based) has this email: realistic private data the collector must never store. */
function customerEmail(n) {
  const first = FIRST_NAMES[n % FIRST_NAMES.length];
  const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length];
  return `${first}.${last}${n}@example.com`;
}

function customerName(n) {
  const first = FIRST_NAMES[n % FIRST_NAMES.length];
  const last = LAST_NAMES[Math.floor(n / FIRST_NAMES.length) % LAST_NAMES.length];
  return `${first[0].toUpperCase()}${first.slice(1)} ${last[0].toUpperCase()}${last.slice(1)}`;
}

function customerCountry(n) {
  return COUNTRIES[n % COUNTRIES.length];
}

function productName(n) {
  return `${ADJECTIVES[n % ADJECTIVES.length]} ${NOUNS[Math.floor(n / ADJECTIVES.length) % NOUNS.length]} ${n}`;
}

/** Prices spread between 1.00 and 200.00, stable per product. */
function productPriceCents(n) {
  return 100 + ((n * 7919) % 19_900);
}

module.exports = { SIZES, customerEmail, customerName, customerCountry, productName, productPriceCents };
