import { App } from "cdktf";
import config from "./config/mandate.config";
import { buildStacks } from "./src/app";

// `cdktf synth` runs this with CDKTF_OUTDIR set; `node dist/main.js` alone writes to ./cdktf.out.
const app = new App();
buildStacks(app, config);
app.synth();
