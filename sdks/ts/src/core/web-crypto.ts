/**
 * WebCrypto: the global one (Node 19+, Deno, Bun, browsers, workers), or Node 18's
 * `node:crypto` export, where the global needs a flag.
 */
export async function webCrypto(): Promise<Crypto> {
  // Typed as always present by the DOM library, but absent on Node 18 without a flag.
  const global = globalThis.crypto as Crypto | undefined;
  if (global !== undefined) return global;
  // A variable specifier keeps bundlers for other runtimes from resolving a Node built-in.
  const specifier = 'node:crypto';
  const nodeCrypto = (await import(specifier)) as { webcrypto: Crypto };
  return nodeCrypto.webcrypto;
}
