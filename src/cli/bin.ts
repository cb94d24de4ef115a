/** Process entry of the CLI (the `bin/` scripts load the built copy of this module's `main`). */
import { main } from './main.js';

void main();
