// The fuzz entry functions (issue #16, docs/fuzzing.md): one per untrusted-input surface of
// crossmodal_core, implemented once in fuzz_entries.cc. Shared by the libFuzzer targets in
// test/fuzz/*_fuzzer.cc and by the GoogleTest test/native/fuzz_regression_test.cc, which replays
// every committed regression input (test/fuzz/regressions/<target>/) and every seed through the
// very same functions in the ordinary `node tools/test-native.mjs` run.
//
// Contract checked by every entry: hostile input may be rejected with a crossmodal::Error (the
// documented failure mode of the core, caught inside the entry), never with a crash, a sanitizer
// report, a leak or any other exception (which escapes: libFuzzer reports it as a crash, the
// replay test as a failure). Some entries also check invariants that must hold for every input
// (a violation prints "crossmodal fuzz invariant violated" and aborts).
//
// Fixture files are found through CROSSMODAL_FIXTURES (set by CTest and tools/fuzz.sh), else the
// source tree's test/fixtures (CROSSMODAL_FUZZ_FIXTURES, defined by CMake). Entries that need
// files on disk write them into one private temporary directory per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace crossmodal::fuzz {

namespace fs = std::filesystem;

// The fuzz targets, by name (test/fuzz/<name>_fuzzer.cc, test/fuzz/regressions/<name>/).
inline const char* const kTargets[] = {"image", "clip_bpe", "sentencepiece", "bundle_config", "index_file"};

// image: ProbeImage, EXIF orientation readers, PreprocessImageSource of encoded bytes (JPEG with
// and without DCT scaling, PNG, WebP, GIF; other formats must be refused).
void FuzzImage(const uint8_t* data, size_t size);
// clip_bpe: CLIP byte-level BPE (full vocabulary) on arbitrary bytes; cache and BPE-algorithm
// invariants.
void FuzzClipBpe(const uint8_t* data, size_t size);
// sentencepiece: SigLIP and XLM-R SentencePiece tokenizers and the native Unigram tokenizer.json.
void FuzzSentencePiece(const uint8_t* data, size_t size);
// bundle_config: first byte = which bundle file (BundleMode in fuzz_entries.cc), rest = content.
void FuzzBundleConfig(const uint8_t* data, size_t size);
// index_file: AnnIndex::Load of the bytes as they are and "resealed" (CRCs recomputed), then a
// search.
void FuzzIndexFile(const uint8_t* data, size_t size);

// Loads what `target` needs once (fixture tokenizers, scratch bundle); LLVMFuzzerInitialize calls it.
void WarmUp(std::string_view target);

// By target name (kTargets); nullptr for an unknown name.
using EntryFn = void (*)(const uint8_t*, size_t);
EntryFn EntryFor(std::string_view target);

// Seed corpora derived from test/fixtures (nothing binary is committed for them): each writes the
// seeds of one target into `dir`; WriteSeeds writes root/<target>/ for every target.
void WriteImageSeeds(const std::string& dir);
void WriteTextSeeds(const std::string& dir);
void WriteBundleSeeds(const std::string& dir);
void WriteIndexSeeds(const std::string& dir);
void WriteSeeds(const std::string& root);

// Helpers shared with the replay test.
std::string ReadWholeFile(const std::string& path);
const std::string& ScratchDirPath();

}  // namespace crossmodal::fuzz
