// EmbeddingMatrix: the embeddings of one call (count rows of dim floats), and row normalisation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace crossmodal {

// A row-major matrix of embeddings (count rows of dim floats). Lives on the heap so that its
// storage can be adopted by an external ArrayBuffer: the buffer's finalizer deletes it.
struct EmbeddingMatrix {
  size_t count = 0;
  size_t dim = 0;
  std::vector<float> values;

  EmbeddingMatrix() = default;
  EmbeddingMatrix(size_t rows, size_t cols) : count(rows), dim(cols), values(rows * cols) {}
  float* row(size_t i) { return values.data() + i * dim; }
  const float* row(size_t i) const { return values.data() + i * dim; }
};

// Normalises each row to unit L2 norm in place. Rows of all zeros stay zero (their norm is
// undefined; callers get zeros rather than NaNs).
void NormalizeRows(float* data, size_t rows, size_t dim);

}  // namespace crossmodal
