#include "text/clip_tokenizer.h"

#include <zlib.h>

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "text/utf8.h"

namespace crossmodal::text {
namespace {

// Reads a file that may be gzip-compressed (zlib's gz* functions pass plain files through).
std::string ReadMaybeGzip(const std::string& path) {
  uint64_t size = 0;
  FileHandle file = OpenRegularFile(path, codes::kModelLoad, &size);  // never a FIFO or device
  gzFile f = gzdopen(file.get(), "rb");
  if (f == nullptr) throw Error(codes::kModelLoad, "cannot read " + path);
  file.release();  // gzclose closes it
  std::string out;
  char buf[1 << 16];
  while (true) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int errnum = 0;
      std::string message = gzerror(f, &errnum);
      gzclose(f);
      throw Error(codes::kModelLoad, "cannot decompress " + path + ": " + message);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    // A gzip file can expand without bound (a decompression bomb); no vocabulary comes near this.
    if (out.size() > (size_t{1} << 30)) {
      gzclose(f);
      throw Error(codes::kModelLoad, path + " decompresses to more than 1 GiB");
    }
  }
  gzclose(f);
  return out;
}

// bytes_to_unicode() keys in dict order: printable bytes first, then the rest in byte order.
std::array<std::pair<int, char32_t>, 256> BytesToUnicodeInOrder() {
  std::array<std::pair<int, char32_t>, 256> out{};
  std::array<bool, 256> direct{};
  size_t k = 0;
  for (int b = '!'; b <= '~'; ++b) direct[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
  for (int b = 0; b < 256; ++b)
    if (direct[b]) out[k++] = {b, static_cast<char32_t>(b)};
  int n = 0;
  for (int b = 0; b < 256; ++b)
    if (!direct[b]) out[k++] = {b, static_cast<char32_t>(256 + n++)};
  return out;
}

}  // namespace

ClipTokenizer::ClipTokenizer(std::unique_ptr<ClipBpeTokenizer> bpe, TokenizerSpec spec)
    : Tokenizer(std::move(spec)), bpe_(std::move(bpe)) {
  spec_.kind = "clip-bpe";
  spec_.bos_id = bpe_->start_token_id();
  spec_.eos_id = bpe_->end_token_id();
  spec_.padding = Padding::kTrimmable;
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::FromVocabAndMerges(const std::string& vocab_json_path,
                                                                 const std::string& merges_txt_path,
                                                                 TokenizerSpec spec) {
  spec.source = vocab_json_path;
  return std::unique_ptr<ClipTokenizer>(
      new ClipTokenizer(ClipBpeTokenizer::FromVocabAndMerges(vocab_json_path, merges_txt_path), std::move(spec)));
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::FromTokenizerJson(const std::string& path, TokenizerSpec spec) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ReadFileToString(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, path + " is not valid JSON: " + e.what());
  }
  const nlohmann::json* model = j.is_object() && j.contains("model") ? &j["model"] : nullptr;
  if (!model || !model->is_object() || model->value("type", "") != "BPE") {
    throw Error(codes::kModelLoad, path + ": expected a \"BPE\" model");
  }
  if (!model->contains("vocab") || !(*model)["vocab"].is_object() || !model->contains("merges") ||
      !(*model)["merges"].is_array()) {
    throw Error(codes::kModelLoad, path + ": the BPE model lacks \"vocab\" or \"merges\"");
  }
  // Merges are "left right" strings (tokenizers < 0.20) or [left, right] pairs (>= 0.20).
  std::string merges;
  for (const auto& m : (*model)["merges"]) {
    if (m.is_string()) {
      merges += m.get<std::string>();
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges += m[0].get<std::string>() + " " + m[1].get<std::string>();
    } else {
      throw Error(codes::kModelLoad, path + ": malformed merge entry " + m.dump());
    }
    merges += '\n';
  }
  spec.source = path;
  std::unique_ptr<ClipBpeTokenizer> bpe;
  try {
    bpe = ClipBpeTokenizer::FromVocabAndMergesData((*model)["vocab"].dump(), std::move(merges));
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
  return std::unique_ptr<ClipTokenizer>(new ClipTokenizer(std::move(bpe), std::move(spec)));
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::FromBpeSimpleVocab(const std::string& path, TokenizerSpec spec) {
  const std::string text = ReadMaybeGzip(path);
  // merges = text.split('\n')[1 : 49152 - 256 - 2 + 1]
  constexpr size_t kFirst = 1, kEnd = 49152 - 256 - 2 + 1;
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size() && lines.size() < kEnd) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    lines.emplace_back(text.data() + pos, eol - pos);
    pos = eol + 1;
  }
  if (lines.size() < kEnd) {
    throw Error(codes::kModelLoad, path + ": expected at least " + std::to_string(kEnd) + " lines (got " +
                                       std::to_string(lines.size()) + "); not OpenAI's bpe_simple_vocab_16e6");
  }
  nlohmann::json vocab = nlohmann::json::object();
  int32_t next_id = 0;
  const auto order = BytesToUnicodeInOrder();
  for (const auto& [b, cp] : order) {
    std::string s;
    AppendUtf8(cp, s);
    vocab[s] = next_id++;
  }
  for (const auto& [b, cp] : order) {
    std::string s;
    AppendUtf8(cp, s);
    vocab[s + "</w>"] = next_id++;
  }
  std::string merges;
  merges.reserve(text.size());
  for (size_t i = kFirst; i < kEnd; ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // merge.split(): exactly two parts.
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || line.find(' ', sp + 1) != std::string_view::npos ||
        sp + 1 >= line.size()) {
      throw Error(codes::kModelLoad, path + " line " + std::to_string(i + 1) + ": expected \"left right\"");
    }
    std::string joined = std::string(line.substr(0, sp)) + std::string(line.substr(sp + 1));
    vocab[joined] = next_id++;  // dict(zip(vocab, range(len(vocab)))): a repeated entry keeps its last id
    merges.append(line.data(), line.size());
    merges += '\n';
  }
  vocab["<|startoftext|>"] = next_id++;
  vocab["<|endoftext|>"] = next_id++;
  spec.source = path;
  std::unique_ptr<ClipBpeTokenizer> bpe;
  try {
    bpe = ClipBpeTokenizer::FromVocabAndMergesData(vocab.dump(), std::move(merges));
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
  return std::unique_ptr<ClipTokenizer>(new ClipTokenizer(std::move(bpe), std::move(spec)));
}

}  // namespace crossmodal::text
