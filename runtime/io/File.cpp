//===- File.cpp - Whole-file reads and atomic writes ----------------------===//

#include "runtime/io/File.h"

#include "kiln/Error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln {

static std::string errnoText(int err) { return std::strerror(err); }

std::string readFile(const std::string &path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    throw Error("cannot open '" + path + "': " + errnoText(errno));

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw Error("cannot open '" + path + "': " + errnoText(err));
  }
  // open() succeeds on directories; read() would then fail with a less
  // helpful EISDIR, so say it up front.
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error("cannot open '" + path + "': " + errnoText(EISDIR));
  }

  std::string bytes;
  if (S_ISREG(st.st_mode) && st.st_size > 0)
    bytes.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      throw Error("cannot read '" + path + "': " + errnoText(err));
    }
    if (n == 0)
      break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return bytes;
}

/// Creates a fresh file next to PATH. O_EXCL with a name unique to this
/// process and call avoids mkstemp's 0600 mode, so the final file gets the
/// usual umask-derived permissions.
static int createTemporary(const std::string &path, std::string &tempPath) {
  static std::atomic<unsigned> counter{0};
  std::string dir, base;
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    base = path;
  } else {
    dir = path.substr(0, slash + 1);
    base = path.substr(slash + 1);
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    tempPath = dir + "." + base + ".tmp." + std::to_string(::getpid()) + "." +
               std::to_string(counter.fetch_add(1));
    int fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  if (path.empty())
    throw Error("cannot write '': empty output path");
  std::string tempPath;
  int fd = createTemporary(path, tempPath);
  if (fd < 0)
    throw Error("cannot write '" + path + "': " + errnoText(errno));

  auto fail = [&](int err) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tempPath.c_str());
    throw Error("cannot write '" + path + "': " + errnoText(err));
  };

  const char *data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail(errno);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  // close() can report a deferred write error (NFS, full disk); a failed
  // close means the bytes may not be there.
  int closeResult = ::close(fd);
  fd = -1;
  if (closeResult != 0)
    fail(errno);
  if (::rename(tempPath.c_str(), path.c_str()) != 0)
    fail(errno);
}

} // namespace kiln
