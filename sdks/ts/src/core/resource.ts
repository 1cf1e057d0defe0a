import type { MandateCore } from './client-core.js';

/** Base of the generated resource classes (`client.agents`, `client.credentials`, …). */
export abstract class APIResource {
  constructor(protected readonly core: MandateCore) {}
}
