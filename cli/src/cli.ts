#!/usr/bin/env node
import { main } from './main.js';

// The process ends here even if an idle keep-alive connection would hold it open.
process.exit(await main(process.argv));
