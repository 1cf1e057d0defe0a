/**
 * WebCrypto: the global one (Node 19+, Deno, Bun, browsers, workers), or Node 18's
 * `node:crypto` export, where the global needs a flag.
 */
export async function webCrypto(): Promise<Crypto> {
  if (globalThis.crypto?.subtle !== undefined) return globalThis.crypto;
  // A variable specifier keeps bundlers for other runtimes from resolving a Node built-in.
  const specifier = 'node:crypto';
  const nodeCrypto = (await import(specifier)) as { webcrypto: Crypto };
  return nodeCrypto.webcrypto;
}
