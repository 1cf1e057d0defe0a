import * as core from '@actions/core';
import { ActionFailure, messageOf } from './failure.js';

/**
 * Runs an action's main function: any failure becomes the step's error annotation and exit
 * code 1. Only messages are printed (a stack only with debug logging on): none carries a token.
 */
export function runAction(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (!(error instanceof ActionFailure) && error instanceof Error && error.stack !== undefined) core.debug(error.stack);
    core.setFailed(error instanceof ActionFailure ? error.message : `Unexpected error: ${messageOf(error)}`);
  });
}
