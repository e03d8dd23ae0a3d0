// The fuzz entry functions (issue #16, docs/fuzzing.md): one per untrusted-input surface of
// crossmodal_core. Shared, header-only, by the libFuzzer targets in test/fuzz/*.cc and by the
// GoogleTest test/native/fuzz_regression_test.cc, which replays every committed regression input
// (test/fuzz/regressions/<target>/) and the seed fixtures through the very same functions in the
// ordinary `node tools/test-native.mjs` run.
//
// Contract checked by every entry: hostile input may be rejected with a crossmodal::Error (the
// documented failure mode of the core, caught here), never with a crash, a sanitizer report, a
// leak or any other exception (which escapes: libFuzzer reports it as a crash, the replay test as
// a failure). A few entries also check invariants (CheckOrDie) that must hold for every input.
//
// Fixture files are found through CROSSMODAL_FIXTURES (set by CTest and tools/fuzz.sh), else the
// source tree's test/fixtures (CROSSMODAL_FUZZ_FIXTURES, set by CMake). Entries that need files on
// disk write them into one private temporary directory per process.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/decode.h"
#include "image/exif.h"
#include "image/pipeline.h"
#include "image/preprocess_config.h"
#include "model/model_bundle.h"
#include "search/ann_index.h"
#include "search/index_spec.h"
#include "text/clip_bpe_tokenizer.h"
#include "text/tokenizer.h"
#include "text/tokenizer_factory.h"

#ifndef CROSSMODAL_FUZZ_FIXTURES
#define CROSSMODAL_FUZZ_FIXTURES "test/fixtures"
#endif

namespace crossmodal::fuzz {

namespace fs = std::filesystem;

// The fuzz targets, by name (test/fuzz/<name>_fuzzer.cc, test/fuzz/regressions/<name>/).
inline const char* const kTargets[] = {"image", "clip_bpe", "sentencepiece", "bundle_config", "index_file"};

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "crossmodal fuzz invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}
inline void CheckOrDie(bool ok, const std::string& what) {
  if (!ok) Die(what);
}

inline std::string FixturePath(const std::string& relative) {
  const char* root = std::getenv("CROSSMODAL_FIXTURES");
  return std::string(root && *root ? root : CROSSMODAL_FUZZ_FIXTURES) + "/" + relative;
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read fixture " + path + " (set CROSSMODAL_FIXTURES to test/fixtures)");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteWholeFile(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) Die("cannot write " + path);
}
inline void WriteWholeFile(const std::string& path, const std::string& text) {
  WriteWholeFile(path, text.data(), text.size());
}

// One private scratch directory per process, removed at exit.
class ScratchDir {
 public:
  static const std::string& Path() {
    static ScratchDir dir;
    return dir.path_;
  }

 private:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "crossmodal-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path_;
};

// Runs `fn`; a crossmodal::Error is the accepted way to refuse an input.
template <typename Fn>
bool Accepts(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const Error&) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// image: decode + preprocess of encoded bytes (JPEG, PNG, WebP, GIF; anything else is refused
// by its magic bytes), EXIF orientation for every container, header probing.
inline void FuzzImage(const uint8_t* data, size_t size) {
  image::ImageHeader header;
  const bool probed = image::ProbeImage(data, size, &header);
  const image::ImageFormat sniffed = image::SniffFormat(data, size);
  if (probed) CheckOrDie(header.format == sniffed, "ProbeImage and SniffFormat disagree on the format");
  for (image::ImageFormat format :
       {image::ImageFormat::kJpeg, image::ImageFormat::kPng, image::ImageFormat::kWebp, image::ImageFormat::kGif}) {
    const int orientation = image::ReadExifOrientation(data, size, format);
    CheckOrDie(orientation >= 0 && orientation <= 8, "ReadExifOrientation out of range");
  }
  const int tiff_orientation = image::ExifOrientationFromTiff(data, size);
  CheckOrDie(tiff_orientation >= 0 && tiff_orientation <= 8, "ExifOrientationFromTiff out of range");

  static const image::PreprocessConfig clip_config;  // CLIPImageProcessor defaults: 224 x 224
  image::ImageLoadOptions options;
  options.limits.max_pixels = 4'000'000;  // keeps every run well under libFuzzer's 2 GB RSS limit
  options.exif_orientation = true;
  options.dct_scaling = (size & 1) != 0;  // both JPEG paths, chosen by the input itself
  std::vector<float> out(3 * 224 * 224);
  image::ImageSource source;
  source.kind = image::ImageSource::Kind::kEncoded;
  source.data = data;
  source.size = size;
  const bool decoded = Accepts([&] { image::PreprocessImageSource(source, clip_config, options, out.data()); });
  if (decoded) {
    CheckOrDie(sniffed != image::ImageFormat::kUnknown, "an unknown format was decoded");
  }
}

// ---------------------------------------------------------------------------------------------
// clip_bpe: OpenAI CLIP's byte-level BPE on arbitrary bytes (invalid UTF-8 included), with the
// full 49,408-entry vocabulary of the tiny-clip fixture, loaded once.
struct ClipBpeFixture {
  std::unique_ptr<text::ClipBpeTokenizer> uncached;
  std::unique_ptr<text::ClipBpeTokenizer> small_cache;  // evicts constantly
  static const ClipBpeFixture& Get() {
    static const ClipBpeFixture fixture;
    return fixture;
  }

 private:
  ClipBpeFixture() {
    const std::string vocab = ReadWholeFile(FixturePath("tiny-clip/vocab.json"));
    const std::string merges = ReadWholeFile(FixturePath("tiny-clip/merges.txt"));
    text::ClipBpeTokenizer::Options none;
    none.cache_capacity = 0;
    uncached = text::ClipBpeTokenizer::FromVocabAndMergesData(vocab, merges, none);
    text::ClipBpeTokenizer::Options small;
    small.cache_capacity = 8;
    small.cache_shards = 2;
    small_cache = text::ClipBpeTokenizer::FromVocabAndMergesData(vocab, merges, small);
  }
};

inline void FuzzClipBpe(const uint8_t* data, size_t size) {
  const auto& fixture = ClipBpeFixture::Get();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> ids = fixture.uncached->Encode(text);
  CheckOrDie(fixture.small_cache->Encode(text) == ids, "the word cache changes the ids");
  for (int32_t id : ids) {
    CheckOrDie(id >= 0 && static_cast<size_t>(id) < fixture.uncached->vocab_size(), "id outside the vocabulary");
  }
  std::vector<int32_t> framed(77);
  const size_t length = fixture.uncached->EncodeForModel(text, framed.size(), framed.data(), 0);
  CheckOrDie(length >= 2 && length <= framed.size(), "EncodeForModel length out of range");
  CheckOrDie(framed[length - 1] == fixture.uncached->end_token_id(), "EncodeForModel lost the end token");
  (void)fixture.uncached->Decode(ids, true);
  (void)fixture.uncached->Decode(ids, false);
  (void)fixture.uncached->TokenToId(text);
  // Both BPE algorithms must agree on any single pre-token (the quadratic one is slow: short only).
  if (size <= 256) {
    CheckOrDie(fixture.uncached->BpeWordForTesting(text, false) == fixture.uncached->BpeWordForTesting(text, true),
               "the simple and the heap BPE disagree");
  }
  // The input's bytes as ids: out-of-range ids must be refused with an Error.
  std::vector<int32_t> raw(size / 4);
  if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * 4);
  Accepts([&] { (void)fixture.uncached->Decode(raw, false); });
}

// ---------------------------------------------------------------------------------------------
// sentencepiece: the SentencePiece tokenizers (SigLIP and XLM-R flavours, libsentencepiece) and
// the native Unigram tokenizer.json implementation, each loaded once from its fixture bundle.
struct SentencePieceFixture {
  std::vector<std::unique_ptr<text::Tokenizer>> tokenizers;
  static const SentencePieceFixture& Get() {
    static const SentencePieceFixture fixture;
    return fixture;
  }

 private:
  SentencePieceFixture() {
    for (const char* dir : {"tiny-siglip", "tiny-xlmr", "tiny-unigram-json"}) {
      tokenizers.push_back(text::LoadTokenizer(FixturePath(dir)));
    }
  }
};

inline void FuzzSentencePiece(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> raw(size / 4);
  if (!raw.empty()) std::memcpy(raw.data(), data, raw.size() * 4);
  for (const auto& tokenizer : SentencePieceFixture::Get().tokenizers) {
    const std::vector<int32_t> ids = tokenizer->Encode(text);
    for (int32_t id : ids) {
      CheckOrDie(id >= 0 && static_cast<size_t>(id) < tokenizer->vocab_size() + 1, "id outside the vocabulary");
    }
    std::vector<int32_t> framed(tokenizer->context_length());
    const size_t length = tokenizer->EncodeForModel(text, framed.data());
    CheckOrDie(length <= framed.size(), "EncodeForModel length out of range");
    Accepts([&] { (void)tokenizer->Decode(ids.data(), ids.size(), true); });
    Accepts([&] { (void)tokenizer->Decode(ids.data(), ids.size(), false); });
    (void)tokenizer->TokenToId(text);
    Accepts([&] { (void)tokenizer->Decode(raw.data(), raw.size(), false); });
  }
}

// ---------------------------------------------------------------------------------------------
// bundle_config: the JSON files of a model bundle. The first byte picks the file (mode), the rest
// is its content; the other files of the bundle are the fixtures' (placeholder ONNX files: the
// bundle reader only checks and hashes them).
enum BundleMode : uint8_t {
  kHfConfig = 0,            // config.json of a Hugging Face bundle -> ReadModelBundle, LoadTokenizer
  kHfPreprocessor = 1,      // preprocessor_config.json -> ParsePreprocessConfig, ReadModelBundle
  kHfTokenizerConfig = 2,   // tokenizer_config.json -> ReadModelBundle, LoadTokenizer
  kTokenizerJson = 3,       // tokenizer.json alone -> LoadTokenizer (BPE or Unigram by model.type)
  kOpenClipConfig = 4,      // open_clip config.json -> ReadModelBundle
  kOpenClipPreprocess = 5,  // open_clip preprocess_cfg.json -> ReadModelBundle
  kIndexSpec = 6,           // the index description stored in index files -> IndexSpec::FromJson
  kBundleModes = 7,
};

struct BundleFixture {
  std::string hf, tok, oc;  // bundle directories in the scratch directory
  std::string hf_config, hf_preprocessor, hf_tokenizer_config, oc_config, oc_preprocess;
  static const BundleFixture& Get() {
    static const BundleFixture fixture;
    return fixture;
  }

 private:
  BundleFixture() {
    const std::string root = ScratchDir::Path() + "/bundle";
    hf = root + "/hf";
    tok = root + "/tok";
    oc = root + "/oc";
    for (const std::string& dir : {hf + "/onnx", tok, oc + "/visual", oc + "/textual"}) fs::create_directories(dir);
    hf_config = ReadWholeFile(FixturePath("tiny-clip/config.json"));
    hf_preprocessor = ReadWholeFile(FixturePath("tiny-clip/preprocessor_config.json"));
    hf_tokenizer_config = ReadWholeFile(FixturePath("tiny-clip/tokenizer_config.json"));
    oc_config = ReadWholeFile(FixturePath("tiny-openclip/config.json"));
    oc_preprocess = ReadWholeFile(FixturePath("tiny-openclip/preprocess_cfg.json"));
    WriteWholeFile(hf + "/config.json", hf_config);
    WriteWholeFile(hf + "/preprocessor_config.json", hf_preprocessor);
    WriteWholeFile(hf + "/tokenizer_config.json", hf_tokenizer_config);
    WriteWholeFile(hf + "/onnx/vision_model.onnx", "placeholder");
    WriteWholeFile(hf + "/onnx/text_model.onnx", "placeholder");
    WriteWholeFile(hf + "/onnx/vision_model_fp16.onnx", "placeholder");
    // Tokenizer files for whichever class a fuzzed tokenizer_config.json names (no vocab.json, so
    // CLIPTokenizer falls back to tokenizer.json, a small Unigram one here).
    WriteWholeFile(hf + "/spiece.model", ReadWholeFile(FixturePath("tiny-siglip/spiece.model")));
    WriteWholeFile(hf + "/sentencepiece.bpe.model", ReadWholeFile(FixturePath("tiny-xlmr/sentencepiece.bpe.model")));
    nlohmann::json unigram = nlohmann::json::parse(ReadWholeFile(FixturePath("tiny-unigram-json/tokenizer.json")));
    auto& vocab = unigram["model"]["vocab"];
    vocab.erase(vocab.begin() + 64, vocab.end());
    WriteWholeFile(hf + "/tokenizer.json", unigram.dump());
    WriteWholeFile(oc + "/config.json", oc_config);
    WriteWholeFile(oc + "/preprocess_cfg.json", oc_preprocess);
    WriteWholeFile(oc + "/visual/model.onnx", "placeholder");
    WriteWholeFile(oc + "/textual/model.onnx", "placeholder");
    WriteWholeFile(oc + "/merges.txt", "#version: 0.2\n");
  }
};

inline void ExerciseTokenizer(const text::Tokenizer& tokenizer) {
  static const std::string kSample = "A photo of a CAT, \xe2\x96\x81 \xc3\xbc <|endoftext|> </s>\xff";
  std::vector<int32_t> ids = tokenizer.Encode(kSample);
  Accepts([&] { (void)tokenizer.Decode(ids.data(), ids.size(), true); });
  if (tokenizer.context_length() > 0 && tokenizer.context_length() <= 4096) {
    std::vector<int32_t> framed(tokenizer.context_length());
    Accepts([&] { (void)tokenizer.EncodeForModel(kSample, framed.data()); });
  }
}

inline void FuzzBundleConfig(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const auto& fixture = BundleFixture::Get();
  const auto mode = static_cast<BundleMode>(data[0] % kBundleModes);
  const std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto read_bundle = [](const std::string& dir) {
    Accepts([&] { (void)model::ReadModelBundle(dir, model::Precision::kAuto, (dir.size() & 1) != 0); });
  };
  auto load_tokenizer = [](const std::string& dir) {
    std::unique_ptr<text::Tokenizer> tokenizer;
    if (Accepts([&] { tokenizer = text::LoadTokenizer(dir); })) ExerciseTokenizer(*tokenizer);
  };
  switch (mode) {
    case kHfConfig:
      WriteWholeFile(fixture.hf + "/config.json", payload);
      read_bundle(fixture.hf);
      load_tokenizer(fixture.hf);
      WriteWholeFile(fixture.hf + "/config.json", fixture.hf_config);
      break;
    case kHfPreprocessor: {
      nlohmann::json json;
      bool parsed = true;
      try {
        json = nlohmann::json::parse(payload);
      } catch (const nlohmann::json::exception&) {
        parsed = false;  // the harness's own parse; the core reports bad JSON through ReadJsonFile
      }
      if (parsed) {
        image::PreprocessConfig config;
        if (Accepts([&] { config = image::ParsePreprocessConfig(json); }) && config.HasFixedOutputSize()) {
          CheckOrDie(config.OutputHeight() > 0 && config.OutputWidth() > 0, "non-positive output size");
        }
      }
      WriteWholeFile(fixture.hf + "/preprocessor_config.json", payload);
      read_bundle(fixture.hf);
      WriteWholeFile(fixture.hf + "/preprocessor_config.json", fixture.hf_preprocessor);
      break;
    }
    case kHfTokenizerConfig:
      WriteWholeFile(fixture.hf + "/tokenizer_config.json", payload);
      read_bundle(fixture.hf);
      load_tokenizer(fixture.hf);
      WriteWholeFile(fixture.hf + "/tokenizer_config.json", fixture.hf_tokenizer_config);
      break;
    case kTokenizerJson:
      WriteWholeFile(fixture.tok + "/tokenizer.json", payload);
      load_tokenizer(fixture.tok);
      break;
    case kOpenClipConfig:
      WriteWholeFile(fixture.oc + "/config.json", payload);
      read_bundle(fixture.oc);
      WriteWholeFile(fixture.oc + "/config.json", fixture.oc_config);
      break;
    case kOpenClipPreprocess:
      WriteWholeFile(fixture.oc + "/preprocess_cfg.json", payload);
      read_bundle(fixture.oc);
      WriteWholeFile(fixture.oc + "/preprocess_cfg.json", fixture.oc_preprocess);
      break;
    case kIndexSpec: {
      search::IndexSpec spec;
      if (Accepts([&] { spec = search::IndexSpec::FromJson(payload); })) {
        // What FromJson accepts, ToJson must write back readably.
        search::IndexSpec again;
        CheckOrDie(Accepts([&] { again = search::IndexSpec::FromJson(spec.ToJson()); }),
                   "IndexSpec::FromJson refuses its own ToJson: " + spec.ToJson());
        CheckOrDie(again.ToJson() == spec.ToJson(), "IndexSpec JSON does not round-trip: " + spec.ToJson());
      }
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// index_file: AnnIndex::Load of a whole index file (FAISS payload, metadata, checksummed
// trailer), then a search. Each input is loaded twice: as it is (the trailer and checksum checks)
// and "resealed" — when it ends with a trailer, its CRCs and metadata size are recomputed so the
// mutated FAISS payload and metadata get past the checksums and reach the parsers (an attacker
// can compute CRC-32 too).
constexpr size_t kTrailerBytes = 256;
constexpr size_t kTrailerFaissBytes = 40, kTrailerMetaBytes = 48, kTrailerDataCrc = 56, kTrailerCrc = 252;

inline void ResealIndexFile(std::vector<uint8_t>& file) {
  if (file.size() < kTrailerBytes) return;
  uint8_t* trailer = file.data() + file.size() - kTrailerBytes;
  if (std::memcmp(trailer, "XMODIDX1", 8) != 0) return;
  const uint64_t body = file.size() - kTrailerBytes;
  uint64_t faiss_bytes = 0;
  std::memcpy(&faiss_bytes, trailer + kTrailerFaissBytes, 8);
  if (faiss_bytes <= body) {
    const uint64_t meta_bytes = body - faiss_bytes;
    std::memcpy(trailer + kTrailerMetaBytes, &meta_bytes, 8);
  }
  const uint32_t data_crc = static_cast<uint32_t>(crc32(crc32(0, nullptr, 0), file.data(), static_cast<uInt>(body)));
  std::memcpy(trailer + kTrailerDataCrc, &data_crc, 4);
  const uint32_t trailer_crc = static_cast<uint32_t>(crc32(crc32(0, nullptr, 0), trailer, kTrailerCrc));
  std::memcpy(trailer + kTrailerCrc, &trailer_crc, 4);
}

inline void LoadAndSearchIndex(const std::string& path) {
  std::unique_ptr<search::AnnIndex> index;
  if (!Accepts([&] { index = search::AnnIndex::Load(path, {}); })) return;
  (void)index->Info();
  const size_t dim = index->dim();
  if (dim == 0 || dim > 4096) return;
  std::vector<float> query(dim, 0.5f);
  query[0] = 1.0f;
  Accepts([&] { (void)index->Search(query.data(), 1, 3, {}); });
  const int64_t ids[] = {0, 1, 2};
  (void)index->Has(ids, 3);
  std::vector<float> vector(dim);
  Accepts([&] { (void)index->Reconstruct(0, vector.data()); });
}

inline void FuzzIndexFile(const uint8_t* data, size_t size) {
  static const std::string path = ScratchDir::Path() + "/index.cmx";
  WriteWholeFile(path, data, size);
  LoadAndSearchIndex(path);
  std::vector<uint8_t> resealed(data, data + size);
  ResealIndexFile(resealed);
  if (resealed != std::vector<uint8_t>(data, data + size)) {
    WriteWholeFile(path, resealed.data(), resealed.size());
    LoadAndSearchIndex(path);
  }
}

// By target name (kTargets); nullptr for an unknown name.
using EntryFn = void (*)(const uint8_t*, size_t);
inline EntryFn EntryFor(std::string_view target) {
  if (target == "image") return FuzzImage;
  if (target == "clip_bpe") return FuzzClipBpe;
  if (target == "sentencepiece") return FuzzSentencePiece;
  if (target == "bundle_config") return FuzzBundleConfig;
  if (target == "index_file") return FuzzIndexFile;
  return nullptr;
}

}  // namespace crossmodal::fuzz
