// SHA-512 (FIPS 180-4) for pages served over plain http, where crypto.subtle is missing.
// The round constants are computed, not listed: the first 64 bits of the fractional
// parts of the square roots (H) and cube roots (K) of the first primes.
"use strict";
const sha512 = (() => {
  const M = (1n << 64n) - 1n;
  const primes = [];
  for (let n = 2; primes.length < 80; n++) if (primes.every((p) => n % p)) primes.push(n);
  const root = (n, k) => {
    let x = 1n << BigInt(Math.ceil(n.toString(2).length / k) + 1);
    for (;;) {
      const y = (BigInt(k - 1) * x + n / x ** BigInt(k - 1)) / BigInt(k);
      if (y >= x) return x;
      x = y;
    }
  };
  const H0 = primes.slice(0, 8).map((p) => root(BigInt(p) << 128n, 2) & M);
  const K = primes.map((p) => root(BigInt(p) << 192n, 3) & M);
  const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & M;
  return (text) => {
    const data = new TextEncoder().encode(text);
    const length = Math.ceil((data.length + 17) / 128) * 128;
    const bytes = new Uint8Array(length);
    bytes.set(data);
    bytes[data.length] = 0x80;
    let bits = BigInt(data.length) * 8n;
    for (let i = length - 1; bits > 0n; i--, bits >>= 8n) bytes[i] = Number(bits & 0xffn);
    const H = H0.slice();
    const W = new Array(80);
    for (let block = 0; block < length; block += 128) {
      for (let t = 0; t < 16; t++) {
        let w = 0n;
        for (let j = 0; j < 8; j++) w = (w << 8n) | BigInt(bytes[block + t * 8 + j]);
        W[t] = w;
      }
      for (let t = 16; t < 80; t++) {
        const s0 = rotr(W[t - 15], 1n) ^ rotr(W[t - 15], 8n) ^ (W[t - 15] >> 7n);
        const s1 = rotr(W[t - 2], 19n) ^ rotr(W[t - 2], 61n) ^ (W[t - 2] >> 6n);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) & M;
      }
      let [a, b, c, d, e, f, g, h] = H;
      for (let t = 0; t < 80; t++) {
        const S1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n);
        const ch = (e & f) ^ (~e & M & g);
        const t1 = (h + S1 + ch + K[t] + W[t]) & M;
        const S0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n);
        const maj = (a & b) ^ (a & c) ^ (b & c);
        [h, g, f, e, d, c, b, a] = [g, f, e, (d + t1) & M, c, b, a, (t1 + S0 + maj) & M];
      }
      [a, b, c, d, e, f, g, h].forEach((v, i) => { H[i] = (H[i] + v) & M; });
    }
    return H.map((v) => v.toString(16).padStart(16, "0")).join("");
  };
})();
if (typeof module !== "undefined") module.exports = sha512;
