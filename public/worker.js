// The analysis worker: the page's own WebAssembly module, started again here. Its main()
// finds no window and serves the page's questions (app/src/worker).
import init from './pkg/chainlens.js';

init();
