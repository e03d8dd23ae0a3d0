// The image pipeline: one image input (a file path, encoded bytes, raw pixels or an already
// preprocessed tensor) to its 3 x H x W float tensor. Reading, size limits, decoding (with EXIF
// orientation and DCT scaling), resizing, cropping and normalising all happen here; the model's
// batcher (model/) and the standalone preprocessImages() call PreprocessImageSource once per
// image, or PreprocessImageBatch / PreprocessImages for a whole batch.
//
// Pure C++, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "image/load_options.h"
#include "image/preprocess_config.h"

namespace crossmodal::image {

// One image input. The bytes of kEncoded / kPixels / kTensor are not owned: they point into a
// buffer the caller keeps alive while the pipeline runs.
struct ImageSource {
  // kTensor: an already preprocessed 3 x H x W float32 tensor (`size` bytes, native endian).
  enum class Kind { kPath, kEncoded, kPixels, kTensor };
  Kind kind = Kind::kPath;
  std::string path;               // kPath
  const uint8_t* data = nullptr;  // kEncoded / kPixels / kTensor
  size_t size = 0;
  int width = 0, height = 0, channels = 0;  // kPixels (kTensor: 0 when not given)
};

// Where one image's time went, for monitoring: reading + decoding (or converting raw pixels),
// then resizing, cropping and normalising into the tensor.
struct ImageStageTimes {
  uint64_t decode_ns = 0;
  uint64_t preprocess_ns = 0;
};

// Writes the 3 x H x W preprocessed tensor of `source` to `out`, (W, H) being cfg's fixed
// output size; fills `times` (if given) when it succeeds. Throws crossmodal::Error: ERR_IO,
// ERR_IMAGE_FORMAT, ERR_IMAGE_DECODE, ERR_IMAGE_TOO_LARGE, ERR_INVALID_ARGUMENT (bad pixels or
// tensor shape).
void PreprocessImageSource(const ImageSource& source, const PreprocessConfig& cfg, const ImageLoadOptions& options,
                           float* out, ImageStageTimes* times = nullptr);

struct ImageFailure {
  size_t index;
  std::string code;
  std::string message;  // names the input: "image 3 (/path/x.jpg): ..."
};

// Preprocesses every source into `out` (sources.size() consecutive 3 x H x W tensors) on `pool`
// (nullptr: the calling thread). Failed rows are left zero and reported, in index order.
std::vector<ImageFailure> PreprocessImageBatch(const std::vector<ImageSource>& sources, const PreprocessConfig& cfg,
                                               const ImageLoadOptions& options, ThreadPool* pool, float* out);

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
PreprocessedBatch PreprocessImages(const std::vector<ImageSource>& sources, const PreprocessConfig& cfg,
                                   const ImageLoadOptions& options, ThreadPool* pool, size_t own_threads);

// "image 3" or "image 3 (/path/x.jpg)", for error messages.
std::string DescribeImageInput(size_t index, const ImageSource& source);

}  // namespace crossmodal::image
