// Splitting a text batch into runs of similar length. Pure C++.
//
// A text batch runs at its longest row's length (padding trimmed). When its rows' lengths differ
// a lot — a FIFO batch of unrelated single-caption calls, or one call of captions of every length —
// most of that work is padding. Running the rows sorted by length as a few sub-batches, each at
// its own longest length, does the same rows with less padding, at the price of one more ONNX
// Runtime run per sub-batch (which streams every weight of the tower again).
#pragma once

#include <cstddef>
#include <vector>

namespace crossmodal::model {

// The cost of one extra run, in token-rows (rows × sequence length): measured on the ViT-B/32
// text tower on 2 vCPUs, a token-row costs ~0.3 ms and a run's fixed part (reading ~250 MB of
// weights, graph overhead) ~15–20 ms.
inline constexpr size_t kRunOverheadTokenRows = 64;

// `lengths`: the rows' lengths sorted longest first (each ≥ 1). Returns the end index of each
// sub-batch (the last is lengths.size()), chosen to minimise Σ (rows × longest length) +
// run_overhead × sub-batches: an exact dynamic programme over the sorted order, O(n²) for the
// at most a few hundred rows of a batch. One sub-batch when splitting does not pay.
std::vector<size_t> PlanLengthGroups(const std::vector<size_t>& lengths, size_t run_overhead = kRunOverheadTokenRows);

}  // namespace crossmodal::model
