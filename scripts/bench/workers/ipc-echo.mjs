// child_process.fork IPC echo: every message is sent straight back.
process.on('message', (m) => process.send(m));
process.on('disconnect', () => process.exit(0));
