// Similarity matrices between two sets of embeddings.
#pragma once

#include <cstddef>
#include <vector>

namespace crossmodal::search {

struct SimilarityOptions {
  // Each score is multiplied by `scale` (CLIP's logit_scale turns cosines into logits; 1 = raw).
  double scale = 1.0;
  // Softmax over each row (over the texts for an image), as CLIP's zero-shot classifier does.
  bool softmax = false;
};

// rows_a × rows_b dot products of row-major `a` and `b` (both `dim` wide). Callers pass
// normalised embeddings to get cosine similarities.
std::vector<float> SimilarityMatrix(const float* a, size_t rows_a, const float* b, size_t rows_b, size_t dim,
                                    const SimilarityOptions& options);

// Averages consecutive groups of `group` rows (rows must be a multiple of `group`) and
// normalises each mean to unit length: CLIP's prompt-ensemble classifier weights.
std::vector<float> NormalizedGroupMeans(const float* rows, size_t count, size_t dim, size_t group);

}  // namespace crossmodal::search
