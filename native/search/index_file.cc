// AnnIndex persistence.
//
// Layout: the FAISS index exactly as faiss::write_index writes it, from offset 0 (so FAISS can
// mmap the file itself), then our metadata section (spec JSON, slot → id table, tombstones, next
// id), then a fixed 256-byte trailer holding the header fields and checksums. The trailer sits at
// the end rather than the start because FAISS's mmap loader wants its own data at offset 0.
//
// Loading validates the trailer (magic, version, its own CRC, sizes against the file size), then
// the CRC-32 of everything before it, before FAISS parses a byte: a corrupt file never reaches
// FAISS's reader, which trusts the sizes it reads. Only a fully parsed and cross-checked index is
// returned, so a refused file leaves nothing behind.
#include <dirent.h>
#include <faiss/Index.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "common/error.h"
#include "common/file_util.h"
#include "search/ann_index.h"
#include "search/faiss_payload.h"
#include "search/fast_flat.h"
#include "search/hnsw_search.h"
#include "search/huge_pages.h"

namespace crossmodal::search {

void CleanStaleTempFiles(const std::string& path);

struct IndexFileAccess {
  static void Save(const AnnIndex& index, const std::string& path, const std::string& fingerprint);
  static std::unique_ptr<AnnIndex> Load(const std::string& path, const LoadOptions& options);
};

namespace {

constexpr char kMagic[8] = {'X', 'M', 'O', 'D', 'I', 'D', 'X', '1'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kMaxFingerprint = 128;

struct Trailer {
  char magic[8];
  uint32_t version;
  uint32_t dim;
  uint32_t metric;
  uint32_t type;
  uint64_t count;        // live vectors
  uint64_t slots;        // FAISS rows incl. tombstones
  uint64_t faiss_bytes;  // FAISS data at [0, faiss_bytes)
  uint64_t meta_bytes;   // metadata at [faiss_bytes, faiss_bytes + meta_bytes)
  uint32_t data_crc;     // CRC-32 of [0, faiss_bytes + meta_bytes)
  uint32_t fingerprint_len;
  char fingerprint[kMaxFingerprint];
  uint8_t reserved[60];
  uint32_t trailer_crc;  // CRC-32 of the trailer up to here
};
static_assert(sizeof(Trailer) == 256, "the trailer layout is part of the file format");

uint32_t Crc(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const Bytef*>(data);
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = static_cast<uint32_t>(crc32(crc, p, chunk));
    p += chunk;
    size -= chunk;
  }
  return crc;
}

std::string ErrnoText() { return std::strerror(errno); }

struct CrcFileWriter : faiss::IOWriter {
  FILE* file;
  uint32_t crc = static_cast<uint32_t>(crc32(0, nullptr, 0));
  uint64_t bytes = 0;
  explicit CrcFileWriter(FILE* f) : file(f) { name = "crossmodal-index"; }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    const size_t n = std::fwrite(ptr, size, nitems, file);
    if (n != nitems) throw Error(codes::kIo, "write failed: " + ErrnoText());
    crc = Crc(crc, ptr, size * nitems);
    bytes += size * nitems;
    return n;
  }
  template <typename T>
  void Put(const T& value) {
    (*this)(&value, sizeof(T), 1);
  }
  void PutBytes(const void* data, size_t size) {
    if (size > 0) (*this)(data, 1, size);
  }
};

// Reads at most `limit` bytes: FAISS must not read into our metadata if its data is inconsistent.
struct BoundedFileReader : faiss::IOReader {
  FILE* file;
  uint64_t remaining;
  BoundedFileReader(FILE* f, uint64_t limit) : file(f), remaining(limit) { name = "crossmodal-index"; }
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0 || nitems == 0) return 0;
    const size_t fit = static_cast<size_t>(std::min<uint64_t>(nitems, remaining / size));
    const size_t n = std::fread(ptr, size, fit, file);
    remaining -= n * size;
    return n;
  }
};

struct FileCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

[[noreturn]] void Corrupt(const std::string& path, const std::string& why) {
  throw Error(codes::kIndexCorrupt, "index file " + path + " is corrupt or not a crossmodal index: " + why);
}

void ReadExactly(FILE* f, void* out, size_t size, const std::string& path) {
  if (size > 0 && std::fread(out, 1, size, f) != size) Corrupt(path, "unexpected end of file");
}

// Checks every HNSW graph inside `index` (a factory index can hold one as an IVF quantizer or
// behind a transform) with HnswGraphProblem; throws ERR_INDEX_CORRUPT naming the first problem.
void CheckGraphs(const faiss::Index* index, const std::string& path, int depth = 0) {
  if (index == nullptr || depth > 8) return;
  if (const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index)) {
    const std::string problem = HnswGraphProblem(*hnsw);
    if (!problem.empty()) Corrupt(path, "malformed HNSW graph: " + problem);
    CheckGraphs(hnsw->storage, path, depth + 1);
  } else if (const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) {
    CheckGraphs(ivf->quantizer, path, depth + 1);
  } else if (const auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    CheckGraphs(pre->index, path, depth + 1);
  } else if (const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index)) {
    CheckGraphs(refine->base_index, path, depth + 1);
    CheckGraphs(refine->refine_index, path, depth + 1);
  } else if (const auto* map = dynamic_cast<const faiss::IndexIDMap*>(index)) {
    CheckGraphs(map->index, path, depth + 1);
  }
}

// Every label `index` can return from a search must be below `bound`: the caller maps labels to
// ids through a table of that size, and IndexRefine / IndexIDMap use their base's labels as
// positions in their own arrays without a bounds check. FAISS stores IVF list ids and ID-map
// entries as written, so a crafted file could otherwise send a search outside those arrays
// (fuzzing: test/fuzz/regressions/index_file/crash-7ee4ca4f…). Throws ERR_INDEX_CORRUPT.
void CheckLabelRange(const faiss::Index* index, int64_t bound, const std::string& path, int depth = 0) {
  if (index == nullptr || depth > 8) return;
  if (const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) {
    const faiss::InvertedLists* lists = ivf->invlists;
    if (lists == nullptr) return;
    for (size_t list = 0; list < lists->nlist; ++list) {
      const size_t size = lists->list_size(list);
      if (size == 0) continue;
      faiss::InvertedLists::ScopedIds ids(lists, list);
      // Lists loaded with mmap point into the file, where ids need not be 8-byte aligned.
      const auto* raw = reinterpret_cast<const unsigned char*>(ids.get());
      for (size_t j = 0; j < size; ++j) {
        int64_t label = 0;
        std::memcpy(&label, raw + j * sizeof(int64_t), sizeof(label));
        if (label < 0 || label >= bound) {
          Corrupt(path, "inverted list " + std::to_string(list) + " holds label " + std::to_string(label) +
                            " outside the " + std::to_string(bound) + " slots");
        }
      }
    }
  } else if (const auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    CheckLabelRange(pre->index, bound, path, depth + 1);
  } else if (const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index)) {
    const int64_t exact_rows = refine->refine_index != nullptr ? refine->refine_index->ntotal : 0;
    CheckLabelRange(refine->base_index, std::min(bound, exact_rows), path, depth + 1);
  } else if (const auto* map = dynamic_cast<const faiss::IndexIDMap*>(index)) {
    for (const int64_t id : map->id_map) {
      if (id < 0 || id >= bound) Corrupt(path, "ID map holds label " + std::to_string(id) + " outside the slots");
    }
    CheckLabelRange(map->index, static_cast<int64_t>(map->id_map.size()), path, depth + 1);
  } else if (index->ntotal > bound) {
    // Flat, PQ, SQ and HNSW indexes return positions below their own row count.
    Corrupt(path,
            "a FAISS part holds " + std::to_string(index->ntotal) + " rows for " + std::to_string(bound) + " slots");
  }
}

std::string DirName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Save writes "<target>.tmp-<pid>-<random>" beside the target and renames it over the target.
// A process killed before the rename leaves that file behind; CleanStaleTempFiles removes it on
// the next save or load of the same target. The suffix after ".tmp-" must be digits, '-',
// digits, so nothing but our own temp files ever matches.
constexpr char kTempInfix[] = ".tmp-";
constexpr int64_t kStaleTempSeconds = 600;  // no live save goes this long without writing

std::string TempName(const std::string& path) {
  std::random_device rd;
  return path + kTempInfix + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// The pid in `name` if it is "<base>.tmp-<pid>-<digits>", else -1.
long TempFilePid(const std::string& name, const std::string& base) {
  const std::string prefix = base + kTempInfix;
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == rest.size() || dash > 10) return -1;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (i != dash && !std::isdigit(static_cast<unsigned char>(rest[i]))) return -1;
  }
  return std::stol(rest.substr(0, dash));
}

}  // namespace

// Removes temp files of earlier saves of `path` that can no longer complete: their process is
// gone (kill(pid, 0) says ESRCH), or they have not been written for kStaleTempSeconds (a pid from
// another pid namespace, or reused). Only regular files named exactly as Save names them are
// touched, never through a symlink. Best effort: a failure here never fails the save or load.
void CleanStaleTempFiles(const std::string& path) {
  const std::string dir = DirName(path);
  const std::string base = BaseName(path);
  if (base.empty()) return;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  const long self = static_cast<long>(::getpid());
  const time_t now = ::time(nullptr);
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    const long pid = TempFilePid(name, base);
    if (pid <= 0 || pid == self) continue;  // ours may be in progress on another thread
    struct stat st {};
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    const bool dead = ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    const bool abandoned = now - st.st_mtime > kStaleTempSeconds;
    if (dead || abandoned) ::unlinkat(::dirfd(d), name.c_str(), 0);
  }
  ::closedir(d);
}

namespace {

// Save replaces its target by rename(2), which would replace a directory entry of any kind: a
// device node, a FIFO or a symlink to one must not silently become an index file (and an empty
// directory would be replaced outright). A symlink to a regular file, or a dangling one, is
// replaced by the new file as before.
void CheckSaveTarget(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw Error(codes::kIo, "cannot save to " + path + ": " + ErrnoText());
  }
  if (S_ISREG(st.st_mode)) return;
  if (S_ISLNK(st.st_mode)) {
    struct stat target {};
    if (::stat(path.c_str(), &target) != 0) return;  // dangling: nothing behind it to destroy
    if (S_ISREG(target.st_mode)) return;
    throw Error(codes::kIo,
                "cannot save to " + path + ": it is a symbolic link to something that is not a regular file");
  }
  const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  throw Error(codes::kIo, "cannot save to " + path + ": it exists and is " + kind + ", not a regular file");
}

}  // namespace

void AnnIndex::Save(const std::string& path, const std::string& fingerprint) const {
  IndexFileAccess::Save(*this, path, fingerprint);
}

std::unique_ptr<AnnIndex> AnnIndex::Load(const std::string& path, const LoadOptions& options) {
  return IndexFileAccess::Load(path, options);
}

void IndexFileAccess::Save(const AnnIndex& index, const std::string& path, const std::string& fingerprint) {
  if (fingerprint.size() > kMaxFingerprint) {
    throw Error(codes::kInvalidArgument, "fingerprint must be at most 128 characters");
  }
  std::shared_lock lock(index.mutex_);
  if (!index.index_) throw Error(codes::kIndex, "an untrained IVF index has nothing to save; train() or add() first");

  CheckPathHasNoNul(path);
  if (path.empty()) throw Error(codes::kInvalidArgument, "path must not be empty");
  CheckSaveTarget(path);
  CleanStaleTempFiles(path);
  const std::string tmp = TempName(path);
  // O_EXCL | O_NOFOLLOW: never write through a planted symlink or into someone else's file.
  // 0666 & ~umask, as fopen(3) created it before.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) throw Error(codes::kIo, "cannot create " + tmp + ": " + ErrnoText());
  FilePtr file(::fdopen(fd, "wb"));
  if (!file) {
    const std::string why = ErrnoText();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(codes::kIo, "cannot create " + tmp + ": " + why);
  }
  try {
    CrcFileWriter writer(file.get());
    try {
      faiss::write_index(index.index_.get(), &writer);
    } catch (const faiss::FaissException& e) {
      throw Error(codes::kIndex, std::string("FAISS cannot serialise this index: ") + e.what());
    }
    const uint64_t faiss_bytes = writer.bytes;
    const std::string spec = index.spec_.ToJson();
    writer.Put<uint64_t>(spec.size());
    writer.PutBytes(spec.data(), spec.size());
    writer.Put<uint64_t>(index.labels_.size());
    writer.PutBytes(index.labels_.data(), index.labels_.size() * sizeof(int64_t));
    writer.Put<uint64_t>(index.dead_.size());
    writer.PutBytes(index.dead_.data(), index.dead_.size());
    writer.Put<int64_t>(index.next_id_);

    Trailer t{};
    std::memcpy(t.magic, kMagic, sizeof(kMagic));
    t.version = kFormatVersion;
    t.dim = static_cast<uint32_t>(index.spec_.dim);
    t.metric = static_cast<uint32_t>(index.spec_.metric);
    t.type = static_cast<uint32_t>(index.spec_.type);
    t.count = index.slots_.size();
    t.slots = index.labels_.size();
    t.faiss_bytes = faiss_bytes;
    t.meta_bytes = writer.bytes - faiss_bytes;
    t.data_crc = writer.crc;
    t.fingerprint_len = static_cast<uint32_t>(fingerprint.size());
    std::memcpy(t.fingerprint, fingerprint.data(), fingerprint.size());
    t.trailer_crc = Crc(static_cast<uint32_t>(crc32(0, nullptr, 0)), &t, offsetof(Trailer, trailer_crc));
    if (std::fwrite(&t, sizeof(t), 1, file.get()) != 1) throw Error(codes::kIo, "write failed: " + ErrnoText());
    if (std::fflush(file.get()) != 0 || ::fsync(::fileno(file.get())) != 0) {
      throw Error(codes::kIo, "cannot flush " + tmp + ": " + ErrnoText());
    }
    if (std::fclose(file.release()) != 0) throw Error(codes::kIo, "cannot close " + tmp + ": " + ErrnoText());
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw Error(codes::kIo, "cannot rename " + tmp + " to " + path + ": " + ErrnoText());
    }
  } catch (...) {
    file.reset();
    std::remove(tmp.c_str());
    throw;
  }
  // The rename is only durable once the directory entry is on disk.
  const int dir = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

std::unique_ptr<AnnIndex> IndexFileAccess::Load(const std::string& path, const LoadOptions& options) {
  // Refuses a FIFO (which would block this worker forever), a device, a directory (ERR_IO).
  FileHandle fd = OpenRegularFile(path, codes::kIo, nullptr);
  FilePtr file(::fdopen(fd.get(), "rb"));
  if (!file) throw Error(codes::kIo, "cannot open " + path + ": " + ErrnoText());
  fd.release();  // fclose closes it
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) != 0) throw Error(codes::kIo, "cannot stat " + path + ": " + ErrnoText());
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  CleanStaleTempFiles(path);  // what a save killed midway left beside it (see Save)
  if (file_size < sizeof(Trailer)) Corrupt(path, "file is too short (" + std::to_string(file_size) + " bytes)");

  Trailer t{};
  if (std::fseek(file.get(), static_cast<long>(file_size - sizeof(Trailer)), SEEK_SET) != 0) {
    throw Error(codes::kIo, "cannot seek in " + path);
  }
  ReadExactly(file.get(), &t, sizeof(t), path);
  if (std::memcmp(t.magic, kMagic, sizeof(kMagic)) != 0) Corrupt(path, "bad magic (truncated, or not an index file)");
  if (Crc(static_cast<uint32_t>(crc32(0, nullptr, 0)), &t, offsetof(Trailer, trailer_crc)) != t.trailer_crc) {
    Corrupt(path, "header checksum mismatch");
  }
  if (t.version != kFormatVersion) {
    throw Error(codes::kIndexCorrupt, "index file " + path + " has format version " + std::to_string(t.version) +
                                          "; this build reads version " + std::to_string(kFormatVersion));
  }
  if (t.faiss_bytes + t.meta_bytes + sizeof(Trailer) != file_size) {
    Corrupt(path, "file size " + std::to_string(file_size) + " does not match its header");
  }
  if (t.fingerprint_len > kMaxFingerprint) Corrupt(path, "bad fingerprint length");
  const std::string fingerprint(t.fingerprint, t.fingerprint_len);

  // Cheap expectation checks first, so a mismatched file is refused without reading it all.
  if (t.metric > 2 || t.type > 4) Corrupt(path, "unknown metric or type");
  const auto metric = static_cast<Metric>(t.metric);
  const auto type = static_cast<IndexType>(t.type);
  if (options.dim != 0 && options.dim != t.dim) {
    throw Error(codes::kIndexMismatch, "index file " + path + " holds " + std::to_string(t.dim) +
                                           "-d vectors, expected " + std::to_string(options.dim));
  }
  if (!options.metric.empty() && ParseMetric(options.metric) != metric) {
    throw Error(codes::kIndexMismatch,
                "index file " + path + " uses metric " + MetricName(metric) + ", expected " + options.metric);
  }
  if (!options.type.empty() && ParseIndexType(options.type) != type) {
    throw Error(codes::kIndexMismatch,
                "index file " + path + " is of type " + IndexTypeName(type) + ", expected " + options.type);
  }
  if (!options.fingerprint.empty() && options.fingerprint != fingerprint) {
    throw Error(codes::kIndexMismatch, "index file " + path + " was built with model fingerprint '" + fingerprint +
                                           "', expected '" + options.fingerprint + "'");
  }

  // Whole-file checksum before parsing.
  std::rewind(file.get());
  {
    std::vector<char> buffer(1 << 20);
    uint32_t crc = static_cast<uint32_t>(crc32(0, nullptr, 0));
    uint64_t left = t.faiss_bytes + t.meta_bytes;
    while (left > 0) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
      ReadExactly(file.get(), buffer.data(), chunk, path);
      crc = Crc(crc, buffer.data(), chunk);
      left -= chunk;
    }
    if (crc != t.data_crc) Corrupt(path, "data checksum mismatch");
  }

  // The checksums prove the file is intact, not that it was not crafted: FAISS's reader trusts
  // the sizes and parameters in its stream, so they are checked first (search/faiss_payload.h).
  std::rewind(file.get());
  const FaissPayloadInfo payload = CheckFaissPayload(file.get(), t.faiss_bytes, path);
  int io_flags = 0;
  if (payload.precomputed_table_bytes > std::max(kDerivedFloorBytes, kDerivedFactor * t.faiss_bytes)) {
    // Search computes the IVF-PQ tables per query instead: same results, no outsized allocation.
    io_flags |= faiss::IO_FLAG_SKIP_PRECOMPUTE_TABLE;
  }

  std::unique_ptr<faiss::Index> faiss_index;
  bool mmapped = false;
  try {
    if (options.mmap && (type == IndexType::kIvfFlat || type == IndexType::kIvfPq || type == IndexType::kFactory)) {
      // FAISS 1.7.3 can map only inverted lists; other types are read into memory.
      faiss_index.reset(Accelerate(faiss::read_index(path.c_str(), faiss::IO_FLAG_MMAP | io_flags)));
      mmapped = true;
      // FAISS opened the path again to map it: it must still be the file whose size and
      // checksums were verified above. A file replaced or truncated in between is refused here;
      // one truncated *after* this point is beyond detection (reading the lost pages raises
      // SIGBUS), which is why save() never writes in place (see docs/search.md).
      struct stat now {};
      if (::stat(path.c_str(), &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino ||
          static_cast<uint64_t>(now.st_size) != file_size) {
        throw Error(codes::kIo, "index file " + path + " was replaced or resized while it was being loaded");
      }
    } else {
      std::rewind(file.get());
      BoundedFileReader reader(file.get(), t.faiss_bytes);
      faiss_index.reset(Accelerate(faiss::read_index(&reader, io_flags)));
      if (reader.remaining != 0) Corrupt(path, "FAISS data shorter than its header says");
    }
  } catch (const faiss::FaissException& e) {
    Corrupt(path, std::string("FAISS could not read it: ") + e.what());
  } catch (const std::bad_alloc&) {
    // FAISS sizes its arrays from counts in the file before reading them (issue #16, fuzzing:
    // test/fuzz/regressions/index_file/): absurd counts must not escape as a bare bad_alloc.
    Corrupt(path, "FAISS data declares impossible sizes");
  } catch (const std::length_error&) {
    Corrupt(path, "FAISS data declares impossible sizes");
  }
  // FAISS restores graphs as stored; one that would send a search out of bounds is refused here.
  CheckGraphs(faiss_index.get(), path);

  if (std::fseek(file.get(), static_cast<long>(t.faiss_bytes), SEEK_SET) != 0) {
    throw Error(codes::kIo, "cannot seek in " + path);
  }
  uint64_t meta_left = t.meta_bytes;
  auto take = [&](void* out, uint64_t size) {
    if (size > meta_left) Corrupt(path, "metadata section overruns");
    ReadExactly(file.get(), out, static_cast<size_t>(size), path);
    meta_left -= size;
  };
  uint64_t spec_len = 0;
  take(&spec_len, sizeof(spec_len));
  if (spec_len > meta_left) Corrupt(path, "metadata section overruns");
  std::string spec_json(spec_len, '\0');
  take(spec_json.data(), spec_len);
  IndexSpec spec;
  try {
    spec = IndexSpec::FromJson(spec_json);
  } catch (const Error& e) {
    Corrupt(path, std::string("bad index description: ") + e.what());
  }
  auto index = std::unique_ptr<AnnIndex>(new AnnIndex(spec, std::move(faiss_index)));
  uint64_t nlabels = 0;
  take(&nlabels, sizeof(nlabels));
  if (nlabels != t.slots || nlabels > meta_left / sizeof(int64_t)) Corrupt(path, "id table size mismatch");
  index->labels_.resize(nlabels);
  take(index->labels_.data(), nlabels * sizeof(int64_t));
  uint64_t dead_bytes = 0;
  take(&dead_bytes, sizeof(dead_bytes));
  if (dead_bytes != (nlabels + 7) / 8) Corrupt(path, "tombstone table size mismatch");
  index->dead_.resize(dead_bytes);
  take(index->dead_.data(), dead_bytes);
  take(&index->next_id_, sizeof(index->next_id_));
  if (meta_left != 0) Corrupt(path, "trailing bytes in metadata section");

  // Cross-checks between the header, our tables and what FAISS read.
  if (spec.dim != t.dim || spec.metric != metric || spec.type != type) Corrupt(path, "header and description disagree");
  if (static_cast<size_t>(index->index_->d) != spec.dim) Corrupt(path, "FAISS dimension disagrees with the header");
  index->RebuildSlotMap();
  size_t dead = 0;
  for (size_t s = 0; s < nlabels; ++s) {
    if ((index->dead_[s / 8] >> (s % 8)) & 1) ++dead;
  }
  index->dead_count_ = dead;
  size_t live_labels = 0;
  for (int64_t id : index->labels_) live_labels += id >= 0 ? 1 : 0;
  if (index->slots_.size() != live_labels || live_labels != t.count) Corrupt(path, "duplicate or missing ids");
  const bool explicit_slots = type == IndexType::kIvfFlat || (type == IndexType::kIvfPq && spec.refine_factor == 0);
  const uint64_t expected_ntotal = explicit_slots ? t.count : t.slots;
  if (static_cast<uint64_t>(index->index_->ntotal) != expected_ntotal)
    Corrupt(path, "FAISS row count disagrees with the header");
  CheckLabelRange(index->index_.get(), static_cast<int64_t>(nlabels), path);
  index->live_.store(index->slots_.size());
  index->mmapped_ = mmapped;
  index->fingerprint_ = fingerprint;
  index->ConfigureDevice(options.device, options.device_id);
  // Last: collapsing copies the arrays, which a file refused above would have wasted.
  AdviseIndexHugePages(index->index_.get());
  return index;
}

}  // namespace crossmodal::search
