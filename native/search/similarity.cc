#include "search/similarity.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>

#include "common/embedding_matrix.h"

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

std::vector<float> NormalizedGroupMeans(const float* rows, size_t count, size_t dim, size_t group) {
  const size_t groups = count / group;
  std::vector<float> out(groups * dim, 0.0f);
  for (size_t g = 0; g < groups; ++g) {
    float* mean = out.data() + g * dim;
    for (size_t r = 0; r < group; ++r) {
      const float* row = rows + (g * group + r) * dim;
      for (size_t d = 0; d < dim; ++d) mean[d] += row[d];
    }
  }
  NormalizeRows(out.data(), groups, dim);
  return out;
}

}  // namespace crossmodal::search
