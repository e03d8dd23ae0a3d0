// NumPy's .npy format, version 1.0, for float32 matrices: what `crossmodal embed --out x.npy` and
// the clip-retrieval export write. The format is a fixed prefix, a Python-literal header padded so
// the data starts on a 64-byte boundary, then the raw little-endian floats in C order
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
import * as os from 'node:os';

/** The prefix and header of a `(rows, cols)` little-endian float32 array; the data follows it. */
export function npyHeader(rows: number, cols: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

/** The floats as little-endian bytes (a copy, byte-swapped, only on a big-endian machine). */
export function float32LE(data: Float32Array): Buffer {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return os.endianness() === 'LE' ? bytes : Buffer.from(bytes).swap32();
}

/** A whole `.npy` file of a `rows × cols` float32 matrix. */
export function npyBytes(data: Float32Array, rows: number, cols: number): Buffer {
  return Buffer.concat([npyHeader(rows, cols), float32LE(data)]);
}
