// Implementation of the fuzz entry functions and seed corpora declared in fuzz_entries.h (one
// translation unit, shared by every fuzz target, the seed tool and the replay test).
#include "fuzz_entries.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <random>
#include <sstream>

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

// The fuzz targets, by name (test/fuzz/<name>_fuzzer.cc, test/fuzz/regressions/<name>/).

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "crossmodal fuzz invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}
void CheckOrDie(bool ok, const std::string& what) {
  if (!ok) Die(what);
}

std::string FixturePath(const std::string& relative) {
  const char* root = std::getenv("CROSSMODAL_FIXTURES");
  return std::string(root && *root ? root : CROSSMODAL_FUZZ_FIXTURES) + "/" + relative;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read fixture " + path + " (set CROSSMODAL_FIXTURES to test/fixtures)");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteWholeFile(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) Die("cannot write " + path);
}
void WriteWholeFile(const std::string& path, const std::string& text) {
  WriteWholeFile(path, text.data(), text.size());
}

// One private scratch directory per process, removed at exit.
struct ScratchDirHolder {
  std::string path;
  ScratchDirHolder() {
    std::string tmpl = (fs::temp_directory_path() / "crossmodal-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp failed");
    path = tmpl;
  }
  ~ScratchDirHolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::string& ScratchDirPath() {
  static ScratchDirHolder dir;
  return dir.path;
}

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
void FuzzImage(const uint8_t* data, size_t size) {
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

  static const image::PreprocessConfig clip_config{};  // CLIPImageProcessor defaults: 224 x 224
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

void FuzzClipBpe(const uint8_t* data, size_t size) {
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

void FuzzSentencePiece(const uint8_t* data, size_t size) {
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
    const std::string root = ScratchDirPath() + "/bundle";
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

void FuzzBundleConfig(const uint8_t* data, size_t size) {
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

void FuzzIndexFile(const uint8_t* data, size_t size) {
  static const std::string path = ScratchDirPath() + "/index.cmx";
  WriteWholeFile(path, data, size);
  LoadAndSearchIndex(path);
  std::vector<uint8_t> resealed(data, data + size);
  ResealIndexFile(resealed);
  if (resealed != std::vector<uint8_t>(data, data + size)) {
    WriteWholeFile(path, resealed.data(), resealed.size());
    LoadAndSearchIndex(path);
  }
}

void WarmUp(std::string_view target) {
  if (target == "clip_bpe") (void)ClipBpeFixture::Get();
  if (target == "sentencepiece") (void)SentencePieceFixture::Get();
  if (target == "bundle_config") (void)BundleFixture::Get();
  (void)ScratchDirPath();
}

EntryFn EntryFor(std::string_view target) {
  if (target == "image") return FuzzImage;
  if (target == "clip_bpe") return FuzzClipBpe;
  if (target == "sentencepiece") return FuzzSentencePiece;
  if (target == "bundle_config") return FuzzBundleConfig;
  if (target == "index_file") return FuzzIndexFile;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Seeds.

inline void WriteSeed(const std::string& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  WriteWholeFile(dir + "/" + name, bytes);
}

// Texts of a fixture's .jsonl (each line a JSON string, or an object with "text").
inline std::vector<std::string> JsonlTexts(const std::string& relative, size_t limit) {
  std::vector<std::string> texts;
  std::istringstream in(ReadWholeFile(FixturePath(relative)));
  std::string line;
  while (texts.size() < limit && std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.is_string()) texts.push_back(j.get<std::string>());
    if (j.is_object() && j.contains("text") && j["text"].is_string()) texts.push_back(j["text"].get<std::string>());
  }
  return texts;
}

void WriteImageSeeds(const std::string& dir) {
  for (const char* sub : {"images", "tiny-clip-reference"}) {
    for (const auto& entry : fs::directory_iterator(FixturePath(sub))) {
      const std::string ext = entry.path().extension().string();
      if (ext != ".jpg" && ext != ".png" && ext != ".webp" && ext != ".gif") continue;
      if (entry.file_size() > 128 * 1024) continue;  // small seeds mutate faster
      WriteSeed(dir, std::string(sub) + "-" + entry.path().filename().string(), ReadWholeFile(entry.path().string()));
    }
  }
  // Crafted: a bare TIFF/EXIF block with Orientation 6, a BMP header (refused by format), a GIF
  // header with no image, nothing at all.
  const std::string tiff("II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0", 26);
  WriteSeed(dir, "crafted-tiff-orientation-6", tiff);
  WriteSeed(dir, "crafted-bmp-header",
            std::string("BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0", 30));
  WriteSeed(dir, "crafted-gif-header", std::string("GIF89a\x01\0\x01\0\0\0\0;", 14));
  WriteSeed(dir, "crafted-empty", "");
}

void WriteTextSeeds(const std::string& dir) {
  size_t n = 0;
  for (const std::string& text : JsonlTexts("tokenizer-corpus/corpus.jsonl", 400)) {
    WriteSeed(dir, "corpus-" + std::to_string(n++), text);
  }
  // Invalid UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences.
  WriteSeed(dir, "crafted-invalid-utf8",
            std::string("a\x80 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82 \xff\xfe z"));
  WriteSeed(dir, "crafted-specials", "<|startoftext|>a<|endoftext|> </w> \xe2\x96\x81\xe2\x96\x81 <s></s><pad><unk>");
  WriteSeed(dir, "crafted-long-word", std::string(300, 'a') + std::string(70, 'z'));
}

void WriteBundleSeeds(const std::string& dir) {
  auto seed = [&](BundleMode mode, const std::string& name, const std::string& content) {
    WriteSeed(dir, name, std::string(1, static_cast<char>(mode)) + content);
  };
  seed(kHfConfig, "hf-config-tiny-clip", ReadWholeFile(FixturePath("tiny-clip/config.json")));
  seed(kHfConfig, "hf-config-tiny-siglip", ReadWholeFile(FixturePath("tiny-siglip/config.json")));
  seed(kHfConfig, "hf-config-tiny-xlmr", ReadWholeFile(FixturePath("tiny-xlmr/config.json")));
  seed(kHfPreprocessor, "hf-preprocessor-tiny-clip", ReadWholeFile(FixturePath("tiny-clip/preprocessor_config.json")));
  seed(kHfPreprocessor, "hf-preprocessor-clip", ReadWholeFile(FixturePath("images/configs/clip.json")));
  seed(kHfPreprocessor, "hf-preprocessor-siglip", ReadWholeFile(FixturePath("images/configs/siglip.json")));
  seed(kHfTokenizerConfig, "hf-tokenizer-config-tiny-clip",
       ReadWholeFile(FixturePath("tiny-clip/tokenizer_config.json")));
  seed(kHfTokenizerConfig, "hf-tokenizer-config-tiny-siglip",
       ReadWholeFile(FixturePath("tiny-siglip/tokenizer_config.json")));
  seed(kHfTokenizerConfig, "hf-tokenizer-config-tiny-xlmr",
       ReadWholeFile(FixturePath("tiny-xlmr/tokenizer_config.json")));
  // A small Unigram tokenizer.json (the fixture's, cut to 64 pieces) and a small BPE one.
  nlohmann::json unigram = nlohmann::json::parse(ReadWholeFile(FixturePath("tiny-unigram-json/tokenizer.json")));
  auto& pieces = unigram["model"]["vocab"];
  pieces.erase(pieces.begin() + 64, pieces.end());
  seed(kTokenizerJson, "tokenizer-json-unigram", unigram.dump());
  unigram["normalizer"] = {{"type", "Sequence"},
                           {"normalizers",
                            {{{"type", "Lowercase"}},
                             {{"type", "NFKC"}},
                             {{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", " "}},
                             {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
                             {{"type", "Prepend"}, {"prepend", "\xe2\x96\x81"}}}}};
  unigram["pre_tokenizer"] = {{"type", "Sequence"},
                              {"pretokenizers",
                               {{{"type", "WhitespaceSplit"}},
                                {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"add_prefix_space", true}}}}};
  seed(kTokenizerJson, "tokenizer-json-unigram-steps", unigram.dump());
  nlohmann::json bpe_vocab = nlohmann::json::parse(ReadWholeFile(FixturePath("tiny-clip/vocab.json")));
  nlohmann::json small_vocab = nlohmann::json::object();
  for (auto it = bpe_vocab.begin(); it != bpe_vocab.end(); ++it) {
    if (it.value().get<int>() < 512 || it.key() == "<|startoftext|>" || it.key() == "<|endoftext|>") {
      small_vocab[it.key()] = it.value();
    }
  }
  seed(kTokenizerJson, "tokenizer-json-bpe",
       nlohmann::json({{"model", {{"type", "BPE"}, {"vocab", small_vocab}, {"merges", nlohmann::json::array()}}}})
           .dump());
  seed(kOpenClipConfig, "openclip-config", ReadWholeFile(FixturePath("tiny-openclip/config.json")));
  seed(kOpenClipPreprocess, "openclip-preprocess", ReadWholeFile(FixturePath("tiny-openclip/preprocess_cfg.json")));
  for (const char* spec : {R"({"type":"flat","dim":8,"metric":"cosine"})",
                           R"({"type":"hnsw","dim":16,"metric":"l2","M":8,"efConstruction":40,"efSearch":16})",
                           R"({"type":"ivf-flat","dim":8,"metric":"ip","nlist":4,"nprobe":2})",
                           R"({"type":"ivf-pq","dim":8,"pqM":2,"pqBits":4,"refineFactor":0})",
                           R"({"type":"factory","dim":8,"factory":"PCA4,Flat","device":"auto"})"}) {
    seed(kIndexSpec, "index-spec-" + std::to_string(std::hash<std::string>{}(spec) % 100000), spec);
  }
}

// Small saved indexes of every type, some with removed ids (tombstones).
void WriteIndexSeeds(const std::string& dir) {
  fs::create_directories(dir);
  std::mt19937 rng(16);
  std::normal_distribution<float> normal;
  struct Kind {
    const char* name;
    const char* spec;
    size_t count;
  };
  const Kind kinds[] = {
      {"flat", R"({"type":"flat","dim":8,"metric":"cosine"})", 24},
      {"flat-l2", R"({"type":"flat","dim":4,"metric":"l2"})", 5},
      {"hnsw", R"({"type":"hnsw","dim":8,"metric":"l2","M":4,"efConstruction":16,"efSearch":8})", 40},
      {"ivf-flat", R"({"type":"ivf-flat","dim":8,"metric":"ip","nlist":2})", 100},
      {"ivf-pq", R"({"type":"ivf-pq","dim":8,"nlist":2,"pqM":2,"pqBits":4,"refineFactor":0})", 100},
      {"ivf-pq-refine", R"({"type":"ivf-pq","dim":8,"nlist":2,"pqM":2,"pqBits":4,"refineFactor":2})", 100},
      {"factory", R"({"type":"factory","dim":8,"factory":"Flat"})", 10},
  };
  for (const Kind& kind : kinds) {
    try {
      search::AnnIndex index(search::IndexSpec::FromJson(kind.spec));
      std::vector<float> vectors(kind.count * index.dim());
      for (float& x : vectors) x = normal(rng);
      index.Add(vectors.data(), kind.count, nullptr, false);
      index.Save(dir + "/" + kind.name, "seed");
      const int64_t removed[] = {1, 3};
      index.Remove(removed, 2);
      index.Save(dir + "/" + std::string(kind.name) + "-removed", "seed");
    } catch (const Error& e) {
      // A seed the index code refuses to build is a lost seed, not a failure.
      std::fprintf(stderr, "fuzz seeds: no %s index seed: %s\n", kind.name, e.what());
    }
  }
  search::AnnIndex empty(search::IndexSpec::FromJson(R"({"type":"hnsw","dim":2})"));
  empty.Save(dir + "/hnsw-empty", "");
}

void WriteSeeds(const std::string& root) {
  WriteImageSeeds(root + "/image");
  WriteTextSeeds(root + "/clip_bpe");
  WriteTextSeeds(root + "/sentencepiece");
  WriteBundleSeeds(root + "/bundle_config");
  WriteIndexSeeds(root + "/index_file");
}

}  // namespace crossmodal::fuzz
