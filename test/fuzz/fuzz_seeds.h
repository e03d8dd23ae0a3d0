// Seed corpora for the fuzz targets, derived from the committed fixtures (nothing binary is
// committed for them): WriteSeeds(dir) fills dir/<target>/ for every target. Used by the
// crossmodal_fuzz_seeds tool (tools/fuzz.sh writes build-sanitized/fuzz-seeds/) and by the replay
// test, which feeds every seed through the entry functions too.
#pragma once

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_entries.h"

namespace crossmodal::fuzz {

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

inline void WriteImageSeeds(const std::string& dir) {
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

inline void WriteTextSeeds(const std::string& dir) {
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

inline void WriteBundleSeeds(const std::string& dir) {
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
inline void WriteIndexSeeds(const std::string& dir) {
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
    search::AnnIndex index(search::IndexSpec::FromJson(kind.spec));
    std::vector<float> vectors(kind.count * index.dim());
    for (float& x : vectors) x = normal(rng);
    index.Add(vectors.data(), kind.count, nullptr, false);
    index.Save(dir + "/" + kind.name, "seed");
    const int64_t removed[] = {1, 3};
    index.Remove(removed, 2);
    index.Save(dir + "/" + std::string(kind.name) + "-removed", "seed");
  }
  search::AnnIndex empty(search::IndexSpec::FromJson(R"({"type":"hnsw","dim":2})"));
  empty.Save(dir + "/hnsw-empty", "");
}

inline void WriteSeeds(const std::string& root) {
  WriteImageSeeds(root + "/image");
  WriteTextSeeds(root + "/clip_bpe");
  WriteTextSeeds(root + "/sentencepiece");
  WriteBundleSeeds(root + "/bundle_config");
  WriteIndexSeeds(root + "/index_file");
}

}  // namespace crossmodal::fuzz
