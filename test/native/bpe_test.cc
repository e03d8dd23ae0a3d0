// CLIP BPE merges on a hand-made vocabulary: merges apply by rank (lowest first), every
// occurrence of the chosen pair left to right, the last symbol of a word carries "</w>", and the
// quadratic and heap implementations agree.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "text/clip_bpe_tokenizer.h"

namespace crossmodal::text {
namespace {

std::string Utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// GPT-2 / CLIP bytes_to_unicode: the printable bytes map to themselves, the others to U+0100...
std::vector<std::string> ByteSymbols() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<std::string> symbols(256);
  std::vector<bool> printable(256, false);
  for (int b : bs) printable[b] = true;
  int n = 0;
  for (int b = 0; b < 256; ++b) symbols[b] = Utf8(printable[b] ? b : 256 + n++);
  return symbols;
}

// A tokenizer with the 512 byte symbols, the given merges (their results are added to the
// vocabulary) and the two specials. `ids` receives every token's id.
std::unique_ptr<ClipBpeTokenizer> Make(const std::vector<std::string>& merges, std::map<std::string, int32_t>* ids) {
  nlohmann::json vocab = nlohmann::json::object();
  int32_t next = 0;
  auto add = [&](const std::string& token) {
    if (!vocab.contains(token)) {
      vocab[token] = next;
      (*ids)[token] = next++;
    }
  };
  const std::vector<std::string> symbols = ByteSymbols();
  for (const std::string& s : symbols) add(s);
  for (const std::string& s : symbols) add(s + "</w>");
  std::string merges_txt = "#version: 0.2\n";
  for (const std::string& merge : merges) {
    const size_t space = merge.find(' ');
    add(merge.substr(0, space) + merge.substr(space + 1));
    merges_txt += merge + "\n";
  }
  add("<|startoftext|>");
  add("<|endoftext|>");
  return ClipBpeTokenizer::FromVocabAndMergesData(vocab.dump(), merges_txt);
}

std::vector<int32_t> Ids(const std::map<std::string, int32_t>& ids, const std::vector<std::string>& tokens) {
  std::vector<int32_t> out;
  for (const std::string& t : tokens) out.push_back(ids.at(t));
  return out;
}

std::vector<int32_t> Bpe(const ClipBpeTokenizer& tok, const std::string& word) {
  std::vector<int32_t> quadratic = tok.BpeWordForTesting(word, false);
  std::vector<int32_t> heap = tok.BpeWordForTesting(word, true);
  EXPECT_EQ(quadratic, heap) << word;
  return quadratic;
}

TEST(BpeMerges, AppliesEveryMergeInRankOrder) {
  std::map<std::string, int32_t> ids;
  auto tok = Make({"l o", "e r</w>", "lo w", "low er</w>"}, &ids);
  EXPECT_EQ(Bpe(*tok, "lower"), Ids(ids, {"lower</w>"}));
  // Without the last merge the word stops one step earlier.
  std::map<std::string, int32_t> ids3;
  auto tok3 = Make({"l o", "e r</w>", "lo w"}, &ids3);
  EXPECT_EQ(Bpe(*tok3, "lower"), Ids(ids3, {"low", "er</w>"}));
  // "er</w>" is an end-of-word merge: "r" inside a word does not take it.
  EXPECT_EQ(Bpe(*tok3, "erl"), Ids(ids3, {"e", "r", "l</w>"}));
}

TEST(BpeMerges, LowerRankWins) {
  std::map<std::string, int32_t> a_ids, b_ids;
  auto a = Make({"l o", "o w"}, &a_ids);
  auto b = Make({"o w", "l o"}, &b_ids);
  EXPECT_EQ(Bpe(*a, "low"), Ids(a_ids, {"lo", "w</w>"}));
  EXPECT_EQ(Bpe(*b, "lowx"), Ids(b_ids, {"l", "ow", "x</w>"}));
}

TEST(BpeMerges, MergesEveryOccurrenceLeftToRight) {
  std::map<std::string, int32_t> ids;
  auto tok = Make({"a a", "aa aa"}, &ids);
  // a a a a a</w>: "a a" merges (0,1) and (2,3), then "aa aa".
  EXPECT_EQ(Bpe(*tok, "aaaaa"), Ids(ids, {"aaaa", "a</w>"}));
  EXPECT_EQ(Bpe(*tok, "aaa"), Ids(ids, {"aa", "a</w>"}));
}

TEST(BpeMerges, NonAsciiBytesUseTheirSymbols) {
  std::map<std::string, int32_t> ids;
  auto tok = Make({"x y"}, &ids);  // a tokenizer needs at least one merge
  const std::vector<std::string> symbols = ByteSymbols();
  // "é" is C3 A9 in UTF-8: two byte symbols, the last with "</w>".
  EXPECT_EQ(Bpe(*tok, "\xC3\xA9"), Ids(ids, {symbols[0xC3], symbols[0xA9] + "</w>"}));
}

TEST(BpeMerges, HeapAndQuadraticAgreeOnLongWords) {
  std::map<std::string, int32_t> ids;
  auto tok = Make({"l o", "e r</w>", "lo w", "e r", "low er", "lower lower", "a b", "ab c"}, &ids);
  std::string word;
  for (int i = 0; i < 40; ++i) word += (i % 3 == 0) ? "lower" : (i % 3 == 1 ? "abc" : "xyz");
  ASSERT_GT(word.size(), 64u);
  const std::vector<int32_t> out = Bpe(*tok, word);
  // Decoding the pieces gives the word back.
  EXPECT_EQ(tok->Decode(out), word + " ");
}

TEST(BpeMerges, EncodeRunsThePipeline) {
  std::map<std::string, int32_t> ids;
  auto tok = Make({"l o", "e r</w>", "lo w", "low er</w>"}, &ids);
  // Lower-cased and split into words; each word goes through BPE.
  EXPECT_EQ(tok->Encode("LOWER  low"), Ids(ids, {"lower</w>", "lo", "w</w>"}));
}

}  // namespace
}  // namespace crossmodal::text
