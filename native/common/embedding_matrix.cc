#include "common/embedding_matrix.h"

#include <cmath>

namespace crossmodal {

void NormalizeRows(float* data, size_t rows, size_t dim) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = data + r * dim;
    // Accumulate in double: embeddings can have hundreds of components and float32 sums drift.
    double sum = 0.0;
    for (size_t i = 0; i < dim; ++i) sum += static_cast<double>(row[i]) * row[i];
    if (sum <= 0.0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (size_t i = 0; i < dim; ++i) row[i] *= inv;
  }
}

}  // namespace crossmodal
