/**
 * Passing a large value by reference: `ray.put` an 8 MB matrix once, then hand its ObjectRef to a
 * task instead of the matrix itself.
 *
 * A 1000×1000 matrix of doubles (row-major Float64Array, 8,000,000 bytes) goes into the
 * shared-memory object store (values over 100 KiB do). `sumMatrix.remote(ref)` resolves the ref
 * before the task runs; a worker on the same node reads the matrix as a view of shared memory,
 * without copying it. The driver sums the same matrix locally and compares. Both sum in the same
 * order, so the two results must be identical, not just close.
 *
 *   npx tsc -p examples && node examples/dist/sum_matrix.js
 */
import * as ray from 'rayts';

const ROWS = 1000;
const COLS = 1000;

await ray.init();
try {
  const matrix = new Float64Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < COLS; c++) matrix[r * COLS + c] = Math.sin(r) * Math.cos(c);
  }

  const matrixRef = await ray.put(matrix); // ObjectRef<Float64Array>

  const sumMatrix = ray.remote((m: Float64Array) => {
    let sum = 0;
    for (let i = 0; i < m.length; i++) sum += m[i];
    return { sum, length: m.length, bytes: m.byteLength };
  });

  const remote = await ray.get(sumMatrix.remote(matrixRef));

  let local = 0;
  for (let i = 0; i < matrix.length; i++) local += matrix[i];

  console.log(`matrix: ${ROWS}x${COLS} doubles, ${matrix.byteLength} bytes, stored once with ray.put`);
  console.log(`task saw ${remote.length} doubles (${remote.bytes} bytes)`);
  console.log(`remote sum = ${remote.sum}`);
  console.log(`local sum  = ${local}`);
  if (remote.sum !== local || remote.length !== ROWS * COLS) throw new Error('the remote sum differs from the local one');
  console.log('sums match (ok)');
} finally {
  await ray.shutdown();
}
