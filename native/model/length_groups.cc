#include "model/length_groups.h"

#include <limits>

namespace crossmodal::model {

std::vector<size_t> PlanLengthGroups(const std::vector<size_t>& lengths, size_t run_overhead) {
  const size_t n = lengths.size();
  if (n == 0) return {};
  // best[j]: least cost of rows [0, j); cut[j]: where its last sub-batch starts. Rows are sorted
  // longest first, so a sub-batch [i, j) runs at lengths[i].
  std::vector<size_t> best(n + 1, std::numeric_limits<size_t>::max());
  std::vector<size_t> cut(n + 1, 0);
  best[0] = 0;
  for (size_t j = 1; j <= n; ++j) {
    for (size_t i = 0; i < j; ++i) {
      const size_t cost = best[i] + (j - i) * lengths[i] + run_overhead;
      // Ties keep the earlier (longer) cut: fewer sub-batches for the same cost.
      if (cost < best[j]) best[j] = cost, cut[j] = i;
    }
  }
  std::vector<size_t> ends;
  for (size_t j = n; j > 0; j = cut[j]) ends.push_back(j);
  return {ends.rbegin(), ends.rend()};
}

}  // namespace crossmodal::model
