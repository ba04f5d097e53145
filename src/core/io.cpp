#include "tsunagu/core/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <streambuf>
#include <system_error>
#include <vector>

#include "tsunagu/core/error.hpp"

namespace tsunagu::core {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) {
  if (err == 0) return "unknown error";
  return std::generic_category().message(err);
}

[[noreturn]] void throw_write_error(const fs::path& path, int err) {
  throw IoError("cannot write '" + path.string() + "': " + errno_text(err));
}

/// Output stream buffer over a POSIX file descriptor. Remembers the first errno so that the caller can report
/// the real cause (ENOSPC, EIO, ...) instead of a generic "stream failed".
class FdStreamBuf final : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd), buffer_(64 * 1024) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  FdStreamBuf(const FdStreamBuf&) = delete;
  FdStreamBuf& operator=(const FdStreamBuf&) = delete;

  int error() const noexcept { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n <= 0) return 0;
    const std::streamsize room = epptr() - pptr();
    if (n <= room) {
      std::memcpy(pptr(), s, static_cast<std::size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    if (!flush_buffer()) return 0;
    if (n < static_cast<std::streamsize>(buffer_.size())) {
      std::memcpy(pptr(), s, static_cast<std::size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    return write_all(s, static_cast<std::size_t>(n)) ? n : 0;
  }

  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    const std::size_t n = static_cast<std::size_t>(pptr() - pbase());
    const bool ok = write_all(pbase(), n);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }

  bool write_all(const char* p, std::size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

/// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  TempFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void commit() noexcept { committed_ = true; }

 private:
  fs::path path_;
  int fd_;
  bool committed_ = false;
};

/// Best effort: make the rename itself durable.
void sync_directory(const fs::path& file) {
  fs::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

namespace {

// Write `produce`'s output to a fresh temp file beside `path` (fsync'ed, closed) and return its name; on failure the
// temp file is removed and IoError names `path`.
fs::path write_temp(const fs::path& path, const std::function<void(std::ostream&)>& produce) {
  if (path.empty()) throw IoError("cannot write '': empty path");
  static std::atomic<unsigned long> counter{0};  // distinct temp names for concurrent writers of one path
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(static_cast<long>(::getpid())) + "." + std::to_string(counter++);

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw_write_error(path, errno);
  TempFile guard(tmp, fd);
  // Keep the permissions of a file we replace (umask-derived defaults otherwise).
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) (void)::fchmod(fd, st.st_mode & 07777);

  FdStreamBuf buf(fd);
  {
    std::ostream out(&buf);
    produce(out);  // an exception propagates; the guard removes the temp file
    out.flush();
    if (!out || buf.error() != 0) throw_write_error(path, buf.error() != 0 ? buf.error() : EIO);
  }
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) throw_write_error(path, errno);
  if (guard.close() != 0) throw_write_error(path, errno);
  guard.commit();
  return tmp;
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError("cannot write '" + path.string() + "': " + ec.message());
  }
  sync_directory(path);
}

}  // namespace

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& produce) {
  rename_into_place(write_temp(path, produce), path);
}

void write_files_atomic(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<fs::path> temps;
  try {
    for (const auto& [path, text] : files)
      temps.push_back(write_temp(path, [&text](std::ostream& out) {
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
      }));
  } catch (...) {
    std::error_code ec;
    for (const auto& t : temps) fs::remove(t, ec);
    throw;
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      rename_into_place(temps[i], files[i].first);
    } catch (...) {
      std::error_code ec;
      for (std::size_t k = i + 1; k < temps.size(); ++k) fs::remove(temps[k], ec);
      throw;
    }
  }
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  write_file_atomic(path, [contents](std::ostream& out) {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
}

std::string read_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot read '" + path.string() + "': " + errno_text(err));
  }
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t r = ::read(fd, chunk, sizeof chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw IoError("cannot read '" + path.string() + "': " + errno_text(err));
    }
    if (r == 0) break;
    out.append(chunk, static_cast<std::size_t>(r));
  }
  ::close(fd);
  return out;
}

void write_json(const fs::path& path, const nlohmann::json& value) {
  std::string text;
  try {
    text = value.dump(2);
  } catch (const nlohmann::json::exception& e) {
    // e.g. a string that is not valid UTF-8
    throw InvalidArgument("cannot write '" + path.string() + "': " + e.what());
  }
  text += '\n';
  write_file_atomic(path, std::string_view(text));
}

nlohmann::json read_json(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep its line/column description.
    if (!what.empty() && what.front() == '[') {
      const auto close = what.find("] ");
      if (close != std::string::npos) what.erase(0, close + 2);
    }
    throw ParseError(path.string(), 0, "", "invalid JSON at byte " + std::to_string(e.byte) + ": " + what);
  }
}

}  // namespace tsunagu::core
