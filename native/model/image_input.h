// Turning one ImageSource (path, encoded bytes, raw pixels or a ready tensor) into its slot of
// an image batch tensor. Shared by the encoder's batcher and the preprocess calls. Pure C++,
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <vector>

#include "common/thread_pool.h"
#include "image/decode.h"
#include "image/preprocess_config.h"
#include "model/embed_request.h"
#include "model/image_load_options.h"

namespace crossmodal::model {


// Writes the 3 x H x W preprocessed tensor of `source` to `out`, (W, H) being cfg's fixed
// output size. Throws crossmodal::Error: ERR_IO, ERR_IMAGE_FORMAT, ERR_IMAGE_DECODE,
// ERR_IMAGE_TOO_LARGE, ERR_INVALID_ARGUMENT (bad pixels or tensor shape).
void PreprocessImageSource(const ImageSource& source, const image::PreprocessConfig& cfg,
                           const ImageLoadOptions& options, float* out);

struct ImageFailure {
  size_t index;
  std::string code;
  std::string message;  // names the input: "image 3 (/path/x.jpg): ..."
};

// Preprocesses every source into `out` (sources.size() consecutive 3 x H x W tensors) on `pool`
// (nullptr: the calling thread). Failed rows are left zero and reported, in index order.
std::vector<ImageFailure> PreprocessImageBatch(const std::vector<ImageSource>& sources,
                                               const image::PreprocessConfig& cfg,
                                               const ImageLoadOptions& options, ThreadPool* pool,
                                               float* out);

// A preprocessed batch: `count` consecutive 3 x height x width float tensors, zeros for the rows
// listed in `failures`.
struct PreprocessedBatch {
  std::vector<float> tensor;
  size_t count = 0;
  int height = 0, width = 0;
  std::vector<ImageFailure> failures;
};

// PreprocessImageBatch into a new PreprocessedBatch. With `pool` nullptr and `own_threads` > 1,
// a pool of min(own_threads, sources.size()) - 1 helpers is created for the call (the calling
// thread works too).
PreprocessedBatch PreprocessImages(const std::vector<ImageSource>& sources, const image::PreprocessConfig& cfg,
                                   const ImageLoadOptions& options, ThreadPool* pool, size_t own_threads);

// "image 3" or "image 3 (/path/x.jpg)", for error messages.
std::string DescribeImageInput(size_t index, const ImageSource& source);

}  // namespace crossmodal::model
