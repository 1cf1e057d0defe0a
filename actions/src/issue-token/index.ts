import { runAction } from '../lib/run.js';
import { issueToken } from './main.js';

runAction(issueToken);
