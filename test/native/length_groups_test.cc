// PlanLengthGroups: how a text batch is split into sub-batches of similar length.
#include "model/length_groups.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <vector>

namespace crossmodal::model {
namespace {

size_t Cost(const std::vector<size_t>& lengths, const std::vector<size_t>& ends, size_t overhead) {
  size_t cost = 0, begin = 0;
  for (size_t end : ends) {
    cost += (end - begin) * lengths[begin] + overhead;
    begin = end;
  }
  return cost;
}

TEST(LengthGroups, EqualLengthsStayOneRun) {
  EXPECT_EQ(PlanLengthGroups(std::vector<size_t>(100, 17)), std::vector<size_t>{100});
  EXPECT_EQ(PlanLengthGroups({5}), std::vector<size_t>{1});
  EXPECT_TRUE(PlanLengthGroups({}).empty());
}

TEST(LengthGroups, SplitsOnlyWhenPaddingOutweighsARun) {
  // 10 rows of 70 tokens and 100 of 8: one run pads the 100 short rows to 70 (6,200 token-rows of
  // padding), far more than one extra run.
  std::vector<size_t> bimodal(10, 70);
  bimodal.insert(bimodal.end(), 100, 8);
  EXPECT_EQ(PlanLengthGroups(bimodal), (std::vector<size_t>{10, 110}));
  // 2 rows of 20 then 30 of 18: splitting saves 60 token-rows, less than a run costs.
  std::vector<size_t> close(2, 20);
  close.insert(close.end(), 30, 18);
  EXPECT_EQ(PlanLengthGroups(close), std::vector<size_t>{32});
}

TEST(LengthGroups, IsOptimalAndCoversEveryRowOnRandomBatches) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + rng() % 12;
    std::vector<size_t> lengths(n);
    for (auto& l : lengths) l = 1 + rng() % 77;
    std::sort(lengths.rbegin(), lengths.rend());
    const size_t overhead = rng() % 100;
    const std::vector<size_t> ends = PlanLengthGroups(lengths, overhead);
    ASSERT_FALSE(ends.empty());
    EXPECT_EQ(ends.back(), n);
    EXPECT_TRUE(std::is_sorted(ends.begin(), ends.end()));
    EXPECT_EQ(std::adjacent_find(ends.begin(), ends.end()), ends.end());  // no empty sub-batch
    // Exhaustive check against every way of cutting the sorted rows (2^(n-1) of them).
    size_t best = SIZE_MAX;
    for (size_t mask = 0; mask < (size_t{1} << (n - 1)); ++mask) {
      std::vector<size_t> cuts;
      for (size_t i = 1; i < n; ++i)
        if (mask & (size_t{1} << (i - 1))) cuts.push_back(i);
      cuts.push_back(n);
      best = std::min(best, Cost(lengths, cuts, overhead));
    }
    EXPECT_EQ(Cost(lengths, ends, overhead), best);
    EXPECT_LE(Cost(lengths, ends, overhead), Cost(lengths, {n}, overhead));
  }
}

}  // namespace
}  // namespace crossmodal::model
