// workerpool worker (used both as a worker thread and as a child process).
const workerpool = require('workerpool');

workerpool.worker({
  noop: () => 'ok',
  echo: (b) => b,
  echoTransfer: (b) => new workerpool.Transfer(b, [b.buffer]),
});
