/**
 * A model server: an actor that loads a large model once (here a 16 MB table of weights, stored in
 * the object store with `ray.put` and read in place by the actor) and then serves many requests.
 * Its `predict` method is async, and `maxConcurrency: 4` lets up to 4 requests be in progress at
 * once (while one waits, say on I/O, others run), as Ray's async actors do.
 *
 * The driver sends 64 requests at once, checks every answer against a local computation, and prints
 * how many requests the actor had in progress at most (4).
 *
 *   npx tsc -p examples && node examples/dist/model_server.js
 */
import * as ray from 'rayts';

const FEATURES = 2_000_000;

const ModelServer = ray.remote(class ModelServer {
  private readonly weights: Float64Array;
  private inProgress = 0;
  private maxInProgress = 0;
  served = 0;

  constructor(weights: Float64Array) {
    this.weights = weights; // a view over the shared object store: loaded once, not copied
  }

  /** A "prediction": a dot product over a window of the weights, after a simulated I/O wait. */
  async predict(start: number, length: number): Promise<number> {
    this.inProgress += 1;
    this.maxInProgress = Math.max(this.maxInProgress, this.inProgress);
    try {
      await new Promise((resolve) => setTimeout(resolve, 20)); // e.g. fetching features
      let sum = 0;
      for (let i = start; i < start + length; i++) sum += this.weights[i]! * (i % 7);
      this.served += 1;
      return sum;
    } finally {
      this.inProgress -= 1;
    }
  }

  stats(): { served: number; maxInProgress: number; modelBytes: number } {
    return { served: this.served, maxInProgress: this.maxInProgress, modelBytes: this.weights.byteLength };
  }
});

await ray.init();
try {
  const weights = new Float64Array(FEATURES).map((_, i) => Math.sin(i));
  const model = await ray.put(weights); // ObjectRef<Float64Array>, 16 MB in shared memory
  const server = ModelServer.options({ maxConcurrency: 4 }).remote(model);

  const requests = Array.from({ length: 64 }, (_, i) => ({ start: i * 10_000, length: 50_000 }));
  const answers = await ray.get(requests.map((r) => server.predict.remote(r.start, r.length)));
  const expected = requests.map((r) => {
    let sum = 0;
    for (let i = r.start; i < r.start + r.length; i++) sum += weights[i]! * (i % 7);
    return sum;
  });
  const wrong = answers.filter((a, i) => a !== expected[i]).length;
  const stats = await ray.get(server.stats.remote());
  console.log(`model: ${stats.modelBytes} bytes, loaded once`);
  console.log(`served ${stats.served} requests, ${wrong} wrong`);
  console.log(`at most ${stats.maxInProgress} requests in progress at once (maxConcurrency 4)`);
  if (wrong !== 0 || stats.served !== 64 || stats.maxInProgress !== 4) throw new Error('the model server misbehaved');
  console.log('model server (ok)');
} finally {
  await ray.shutdown();
}
