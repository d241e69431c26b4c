// Loads the WebAssembly app; everything else happens in Rust.
import init from './pkg/chainlens.js';

init().catch((error) => {
  document.body.textContent = `chainlens could not start: ${error}`;
});
