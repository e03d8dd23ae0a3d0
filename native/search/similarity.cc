#include "search/similarity.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>

namespace crossmodal::search {

std::vector<float> SimilarityMatrix(const float* a, size_t rows_a, const float* b, size_t rows_b, size_t dim,
                                    const SimilarityOptions& options) {
  std::vector<float> out(rows_a * rows_b);
  for (size_t i = 0; i < rows_a; ++i) {
    float* row = out.data() + i * rows_b;
    // FAISS's SIMD kernel: one query against rows_b vectors.
    faiss::fvec_inner_products_ny(row, a + i * dim, b, dim, rows_b);
    if (options.scale != 1.0) {
      for (size_t j = 0; j < rows_b; ++j) row[j] = static_cast<float>(row[j] * options.scale);
    }
    if (options.softmax && rows_b > 0) {
      const float max = *std::max_element(row, row + rows_b);
      double sum = 0.0;
      for (size_t j = 0; j < rows_b; ++j) {
        row[j] = std::exp(row[j] - max);
        sum += row[j];
      }
      for (size_t j = 0; j < rows_b; ++j) row[j] = static_cast<float>(row[j] / sum);
    }
  }
  return out;
}

}  // namespace crossmodal::search
