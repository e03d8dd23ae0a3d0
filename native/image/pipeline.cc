#include "image/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "image/decode.h"
#include "image/preprocess.h"

namespace crossmodal::image {

namespace {

std::string TooBig(uint64_t bytes, uint64_t limit) {
  return "input is " + std::to_string(bytes) + " bytes, more than the limit of " + std::to_string(limit) +
         " (maxFileBytes)";
}

// Through OpenRegularFile: a directory, FIFO, device or socket is ERR_IO (a FIFO without a
// writer used to block the worker forever, a directory reported a nonsense size as
// ERR_IMAGE_TOO_LARGE), as are a missing file and an empty path.
std::vector<uint8_t> ReadFileBytes(const std::string& path, uint64_t max_bytes) {
  uint64_t size = 0;
  FileHandle file = OpenRegularFile(path, codes::kIo, &size);
  // Checked before anything is allocated or read.
  if (max_bytes > 0 && size > max_bytes) throw Error(codes::kImageTooLarge, TooBig(size, max_bytes));
  std::vector<uint8_t> bytes = AllocationOf("the file buffer for " + path + " (" + std::to_string(size) + " bytes)",
                                            [&] { return std::vector<uint8_t>(static_cast<size_t>(size)); });
  ReadFully(file.get(), bytes.data(), bytes.size(), path);
  return bytes;
}

DecodedImage Decode(const uint8_t* data, size_t size, const PreprocessConfig& cfg, const ImageLoadOptions& options) {
  if (options.max_file_bytes > 0 && size > options.max_file_bytes) {
    throw Error(codes::kImageTooLarge, TooBig(size, options.max_file_bytes));
  }
  DecodeOptions decode;
  decode.apply_exif_orientation = options.exif_orientation;
  if (options.dct_scaling && cfg.do_resize) {
    decode.target_size = [&cfg](int w, int h, int* tw, int* th) { cfg.ResizedSizeFor(w, h, tw, th); };
  }
  return DecodeToRgb(data, size, options.limits, decode);
}

void CopyTensor(const ImageSource& source, const PreprocessConfig& cfg, float* out) {
  const int h = cfg.OutputHeight(), w = cfg.OutputWidth();
  const size_t floats = 3 * static_cast<size_t>(h) * static_cast<size_t>(w);
  if ((source.width > 0 && source.width != w) || (source.height > 0 && source.height != h)) {
    throw Error(codes::kInvalidArgument, "tensor is 3x" + std::to_string(source.height) + "x" +
                                             std::to_string(source.width) + ", the model takes 3x" + std::to_string(h) +
                                             "x" + std::to_string(w));
  }
  if (source.size != floats * sizeof(float)) {
    throw Error(codes::kInvalidArgument, "tensor has " + std::to_string(source.size / sizeof(float)) +
                                             " values, the model takes 3x" + std::to_string(h) + "x" +
                                             std::to_string(w) + " = " + std::to_string(floats));
  }
  std::memcpy(out, source.data, source.size);
  for (size_t i = 0; i < floats; ++i) {
    if (!std::isfinite(out[i]))
      throw Error(codes::kInvalidArgument, "tensor value " + std::to_string(i) + " is not finite");
  }
}

}  // namespace

void PreprocessImageSource(const ImageSource& source, const PreprocessConfig& cfg, const ImageLoadOptions& options,
                           float* out, ImageStageTimes* times) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  DecodedImage rgb;
  switch (source.kind) {
    case ImageSource::Kind::kPath: {
      std::vector<uint8_t> bytes = ReadFileBytes(source.path, options.max_file_bytes);
      rgb = Decode(bytes.data(), bytes.size(), cfg, options);
      break;
    }
    case ImageSource::Kind::kEncoded:
      rgb = Decode(source.data, source.size, cfg, options);
      break;
    case ImageSource::Kind::kPixels:
      rgb = RgbFromPixels(source.data, source.size, source.width, source.height, source.channels, options.limits);
      break;
    case ImageSource::Kind::kTensor:
      CopyTensor(source, cfg, out);
      return;
  }
  const auto decoded = Clock::now();
  PreprocessRgbToTensor(rgb, cfg, out);
  if (times) {
    times->decode_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(decoded - start).count();
    times->preprocess_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - decoded).count();
  }
}

std::vector<ImageFailure> PreprocessImageBatch(const std::vector<ImageSource>& sources, const PreprocessConfig& cfg,
                                               const ImageLoadOptions& options, ThreadPool* pool, float* out) {
  const size_t per_image = 3 * static_cast<size_t>(cfg.OutputHeight()) * static_cast<size_t>(cfg.OutputWidth());
  std::vector<ImageFailure> failures;
  std::mutex mutex;
  auto one = [&](size_t i) {
    std::string code, message;
    try {
      PreprocessImageSource(sources[i], cfg, options, out + i * per_image);
      return;
    } catch (const Error& e) {
      code = e.code();
      message = e.what();
    } catch (const std::bad_alloc&) {
      code = codes::kResource;
      message = kOutOfMemoryMessage;
    } catch (const std::exception& e) {
      code = codes::kInternal;
      message = e.what();
    }
    std::fill_n(out + i * per_image, per_image, 0.0f);
    std::lock_guard<std::mutex> lock(mutex);
    failures.push_back({i, code, DescribeImageInput(i, sources[i]) + ": " + message});
  };
  if (pool) {
    pool->ParallelFor(sources.size(), one);
  } else {
    for (size_t i = 0; i < sources.size(); ++i) one(i);
  }
  std::sort(failures.begin(), failures.end(),
            [](const ImageFailure& a, const ImageFailure& b) { return a.index < b.index; });
  return failures;
}

PreprocessedBatch PreprocessImages(const std::vector<ImageSource>& sources, const PreprocessConfig& cfg,
                                   const ImageLoadOptions& options, ThreadPool* pool, size_t own_threads) {
  std::unique_ptr<ThreadPool> own;
  if (pool == nullptr && own_threads > 1 && sources.size() > 1) {
    own = std::make_unique<ThreadPool>(std::min(own_threads, sources.size()) - 1);
    pool = own.get();
  }
  PreprocessedBatch batch;
  batch.count = sources.size();
  batch.height = cfg.OutputHeight();
  batch.width = cfg.OutputWidth();
  AllocationOf(
      "the preprocessed tensor (" + std::to_string(sources.size()) + " images of 3x" + std::to_string(batch.height) +
          "x" + std::to_string(batch.width) + ")",
      [&] {
        batch.tensor.resize(sources.size() * 3 * static_cast<size_t>(batch.height) * static_cast<size_t>(batch.width));
      });
  batch.failures = PreprocessImageBatch(sources, cfg, options, pool, batch.tensor.data());
  return batch;
}

std::string DescribeImageInput(size_t index, const ImageSource& source) {
  std::string s = "image " + std::to_string(index);
  if (source.kind == ImageSource::Kind::kPath) s += " (" + source.path + ")";
  return s;
}

}  // namespace crossmodal::image
