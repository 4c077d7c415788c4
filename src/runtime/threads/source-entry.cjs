// Runs a thread's TypeScript entry when Mailroom runs from source (tests, benches under tsx). A
// Node 20 worker gets tsx's `require` hook from `--import tsx` only when its entry is a file (not
// eval'd code), and its `import` hook not at all; so this file requires the entry named in workerData.
require(require('node:worker_threads').workerData.sourceEntry);
