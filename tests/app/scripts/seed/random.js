'use strict';

/**
 * Seeded pseudo-random numbers. Every random choice of the seeder goes through a generator made
 * here, never Math.random, so the same seed always produces the same content.
 */

/**
 * Hashes a list of strings/numbers into a 32-bit integer (FNV-1a), used to derive independent
 * streams: the content of contract #7 depends only on (seed, 'contract', 7), not on how many
 * contracts are generated or in which order.
 * @param {Array<string|number>} parts
 */
const hash = (parts) => {
  let h = 0x811c9dc5;
  for (const char of parts.join('\u0000')) {
    h ^= char.codePointAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

/**
 * A generator (mulberry32) with the helpers the content generators need.
 * @param {...(string|number)} parts the seed and a path naming the stream, e.g. (1, 'contract', 7)
 */
const createRandom = (...parts) => {
  let state = hash(parts);
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  /** Integer in [min, max], both included. */
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  /** @template T @param {T[]} list @returns {T} */
  const pick = (list) => list[Math.floor(next() * list.length)];
  /** True with probability p. */
  const chance = (p) => next() < p;
  /** k distinct elements of list, in random order. */
  const sample = (list, k) => {
    const copy = list.slice();
    const count = Math.min(k, copy.length);
    for (let i = 0; i < count; i += 1) {
      const j = i + Math.floor(next() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, count);
  };
  /** @param {number} length */
  const bytes = (length) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 1) out[i] = Math.floor(next() * 256);
    return out;
  };
  return { next, int, pick, chance, sample, bytes };
};

module.exports = { createRandom, hash };
