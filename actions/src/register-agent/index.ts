import { runAction } from '../lib/run.js';
import { registerAgent } from './main.js';

runAction(registerAgent);
