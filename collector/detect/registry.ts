/** Every detector the collector runs, in one list. Adding a detector means adding a line here. */
import { nPlusOneDetector } from './n-plus-one.js';
import { slowQueryDetector } from './slow-query.js';
import type { Detector } from './types.js';

export const detectors: readonly Detector[] = [slowQueryDetector, nPlusOneDetector];
